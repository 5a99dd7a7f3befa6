from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Creator(models.Model):
    """A TikTok creator (达人) the seller works with."""

    handle = models.CharField(max_length=80, unique=True, help_text=_("TikTok @handle"))
    remote_creator_id = models.CharField(max_length=64, blank=True)
    display_name = models.CharField(max_length=120, blank=True)
    followers = models.PositiveIntegerField(default=0)
    niche = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"@{self.handle}"


class LiveSessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    LIVE = "live", _("Live")
    ENDED = "ended", _("Ended")


class LiveSession(models.Model):
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="sessions")
    shop = models.ForeignKey("shops.Shop", on_delete=models.PROTECT, related_name="live_sessions")
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=LiveSessionStatus.choices, default=LiveSessionStatus.PLANNED
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    viewers = models.PositiveIntegerField(default=0)
    # TikTok's content id for the LIVE, as affiliate orders report it.
    remote_content_id = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.creator} {self.starts_at:%Y-%m-%d %H:%M}"
