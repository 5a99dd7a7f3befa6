from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "aftershow.alerts"
    label = "alerts"
