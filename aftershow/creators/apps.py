from django.apps import AppConfig


class CreatorsConfig(AppConfig):
    name = "aftershow.creators"
    label = "creators"
