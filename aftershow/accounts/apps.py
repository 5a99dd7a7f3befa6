from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "aftershow.accounts"
    label = "accounts"
