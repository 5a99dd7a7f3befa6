"""Reads for the import pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from aftershow.accounts.models import Role, User
from aftershow.imports.models import ImportRun
from aftershow.shops.models import Channel, Shop

RECENT_RUNS = 20
# Who may import files (orders, affiliate orders, statements) and who may export tracking.
IMPORT_ROLES = (Role.OPERATOR, Role.FINANCE)
TRACKING_ROLES = (Role.OPERATOR, Role.PACKER)


def can_import(user: User) -> bool:
    return user.has_role(*IMPORT_ROLES)


def can_export_tracking(user: User) -> bool:
    return user.has_role(*TRACKING_ROLES)


def tiktok_shops() -> QuerySet[Shop]:
    return Shop.objects.filter(channel=Channel.TIKTOK, is_active=True).order_by("name", "id")


def recent_runs() -> QuerySet[ImportRun]:
    return ImportRun.objects.select_related("shop", "created_by").order_by("-started_at", "-id")[
        :RECENT_RUNS
    ]


def run_with_issues(pk: int) -> ImportRun:
    return ImportRun.objects.select_related("shop", "created_by").get(pk=pk)
