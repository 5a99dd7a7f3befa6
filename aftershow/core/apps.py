from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "aftershow.core"
    label = "core"
