from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "aftershow.audit"
    label = "audit"
