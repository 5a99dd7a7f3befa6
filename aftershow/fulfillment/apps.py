from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "aftershow.fulfillment"
    label = "fulfillment"
