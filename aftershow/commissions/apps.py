from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "aftershow.commissions"
    label = "commissions"
    verbose_name = "Commissions"
