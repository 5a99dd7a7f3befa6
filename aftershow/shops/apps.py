from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "aftershow.shops"
    label = "shops"
