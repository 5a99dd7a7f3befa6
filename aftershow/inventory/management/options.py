"""What the stock commands share: turning ``--user NAME`` into the person recorded."""

from __future__ import annotations

from django.core.management.base import CommandError

from aftershow.accounts.models import User


def user_from_option(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"no user named {username!r}")
    return user
