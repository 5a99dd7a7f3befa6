from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftershow.core.fields import EncryptedJSONField


class Channel(models.TextChoices):
    TIKTOK = "tiktok", _("TikTok Shop")
    SHOPIFY = "shopify", _("Shopify")
    AMAZON = "amazon", _("Amazon")
    EBAY = "ebay", _("eBay")


class Shop(models.Model):
    """A storefront on one channel. Credentials are encrypted at rest.

    ``api_base_url`` / ``auth_base_url`` override the channel's production hosts: that, and the
    credentials, are the only difference between a sandbox shop and a real one.
    """

    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    remote_shop_id = models.CharField(max_length=64, help_text=_("The platform's shop id"))
    # TikTok's shop_cipher; other channels leave it blank.
    shop_cipher = models.CharField(max_length=128, blank=True)
    region = models.CharField(max_length=8, default="US")
    api_base_url = models.URLField(blank=True)
    auth_base_url = models.URLField(blank=True)
    # app_key, app_secret, access_token, refresh_token (TikTok); other channels their own keys.
    credentials = EncryptedJSONField(null=True, blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_token_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Minutes after payment during which the buyer may cancel freely (TikTok US: 60).
    cancel_window_minutes = models.PositiveIntegerField(default=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "remote_shop_id"], name="shop_unique_remote_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"
