from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "aftershow.orders"
    label = "orders"
