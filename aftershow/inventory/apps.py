from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "aftershow.inventory"
    label = "inventory"
