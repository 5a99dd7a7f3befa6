"""Domain code reaches connectors through dotted paths in settings.CHANNEL_CONNECTORS."""

from __future__ import annotations

from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from aftershow.shops.models import Shop


class Connector(Protocol):
    def __init__(self, shop: Shop) -> None: ...

    def pull_orders(self) -> Any: ...


def connector_for(shop: Shop) -> Connector:
    path = settings.CHANNEL_CONNECTORS.get(shop.channel)
    if path is None:
        raise LookupError(f"no connector for channel {shop.channel!r}")
    connector_class: type[Connector] = import_string(path)
    return connector_class(shop)
