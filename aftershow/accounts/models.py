from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    OPERATOR = "operator", _("Operator")
    PACKER = "packer", _("Packer")
    CREATOR_MANAGER = "creator_manager", _("Creator manager")
    FINANCE = "finance", _("Finance")


class User(AbstractUser):
    """A member of the seller's team; what they may do follows from their role."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OPERATOR)

    def has_role(self, *roles: Role) -> bool:
        """The owner may do everything; others only what their role allows."""
        return self.is_active and (self.role == Role.OWNER or self.role in roles)
