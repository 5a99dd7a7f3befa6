from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "aftershow.metrics"
    label = "metrics"
