"""The fulfillment app's settings, with their defaults.

Each can be overridden in Django settings under the same name (or, where noted, by environment
variable), so the project settings module needs no change for the defaults to work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Who sells labels that TikTok Shipping does not (R-O3): "sandbox" (sample labels, the
    # demo) until the seller connects EasyPost ("easypost").
    "FULFILLMENT_AGGREGATOR_PROVIDER": os.environ.get("AFTERSHOW_LABEL_AGGREGATOR", "sandbox"),
    # Provider code → dotted path of a callable taking the shop and returning a LabelProvider.
    "FULFILLMENT_LABEL_PROVIDERS": {
        "sandbox": "aftershow.fulfillment.labels.sandbox.SandboxCarrier",
        "easypost": "aftershow.fulfillment.labels.easypost.EasyPostProvider",
        "tiktok": "aftershow.integrations.tiktok.shipping.TikTokShippingProvider",
    },
    "EASYPOST_API_KEY": os.environ.get("AFTERSHOW_EASYPOST_API_KEY", ""),
    "EASYPOST_API_BASE": os.environ.get(
        "AFTERSHOW_EASYPOST_API_BASE", "https://api.easypost.com/v2"
    ),
    # TikTok Shipping bulk-processes at most 600 orders per batch (market-anchors.md).
    "FULFILLMENT_BATCH_MAX_ORDERS": 600,
    "FULFILLMENT_LABEL_DIR": None,  # None: settings.VAR_DIR / "labels"
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def label_dir() -> Path:
    configured = setting("FULFILLMENT_LABEL_DIR")
    path = Path(configured) if configured else Path(settings.VAR_DIR) / "labels"
    path.mkdir(parents=True, exist_ok=True)
    return path
