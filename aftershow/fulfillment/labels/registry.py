"""Label providers are reached by code through dotted paths (``FULFILLMENT_LABEL_PROVIDERS``):
domain code never imports a connector. Each path names a callable taking the shop."""

from __future__ import annotations

from typing import cast

from django.utils.module_loading import import_string

from aftershow.fulfillment.conf import setting
from aftershow.fulfillment.labels.base import LabelError, LabelProvider
from aftershow.shops.models import Shop


def label_provider(code: str, *, shop: Shop) -> LabelProvider:
    paths: dict[str, str] = setting("FULFILLMENT_LABEL_PROVIDERS")
    path = paths.get(code)
    if path is None:
        raise LabelError(f"no label provider {code!r} is configured")
    try:
        factory = import_string(path)
    except ImportError as error:
        raise LabelError(f"label provider {code!r} is not installed ({path})") from error
    return cast(LabelProvider, factory(shop))
