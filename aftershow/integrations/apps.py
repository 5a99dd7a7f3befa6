from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "aftershow.integrations"
    label = "integrations"
