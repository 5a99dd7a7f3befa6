"""The ``--shop ID`` option the release and risk commands share."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from aftershow.shops.models import Shop


def add_shop_argument(parser: CommandParser) -> None:
    parser.add_argument("--shop", type=int, help="Only this shop (id); default: every shop")


def shop_from(options: dict[str, Any]) -> Shop | None:
    shop_id = options.get("shop")
    if shop_id is None:
        return None
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise CommandError(f"No shop with id {shop_id}")
    return shop
