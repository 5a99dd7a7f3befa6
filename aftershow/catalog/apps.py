from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "aftershow.catalog"
    label = "catalog"
