"""The REST API under /api/ (OpenAPI document at /api/openapi.json, docs at /api/docs)."""

from __future__ import annotations

from ninja import NinjaAPI
from ninja.security import django_auth

api = NinjaAPI(
    title="aftershow",
    version="1",
    description="Orders, fulfilment, stock and commissions for TikTok Shop live sellers.",
    auth=django_auth,
)

api.add_router("/orders/", "aftershow.orders.api.router")
api.add_router("/risk/", "aftershow.risk.api.router")
api.add_router("/imports/", "aftershow.imports.api.router")
api.add_router("/fulfillment/", "aftershow.fulfillment.api.router")
