from django.urls import path

from aftershow.integrations.shopify.webhooks import shopify_webhook
from aftershow.integrations.tiktok.webhooks import tiktok_webhook

app_name = "webhooks"

urlpatterns = [
    path("tiktok/", tiktok_webhook, name="tiktok"),
    path("shopify/", shopify_webhook, name="shopify"),
]
