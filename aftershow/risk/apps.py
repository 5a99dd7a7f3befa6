from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "aftershow.risk"
    label = "risk"
