from django.apps import AppConfig


class StockSyncConfig(AppConfig):
    name = "aftershow.stocksync"
    label = "stocksync"
