"""Attribution from a platform's affiliate orders (TikTok: creator, content type, content id).

The connector maps TikTok's payload to :class:`AffiliateOrderRow`; this module stores the rows
as received (``AffiliateOrderSku``, one per order and product) and copies the attribution onto
the order and its lines. Re-pulling the same rows changes nothing; a row whose order has not
been pulled yet is linked by a later pass (:func:`affiliate_orders_link`).

Platform attribution beats the window rule: an order the window rule gave to a session's host
is re-attributed to the creator TikTok names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from aftershow.creators.models import AffiliateOrderSku, Creator, LiveSession
from aftershow.orders.models import Order, OrderLine
from aftershow.shops.models import Shop

LIVE = "LIVE"


@dataclass(frozen=True)
class AffiliateOrderRow:
    """One SKU row of an affiliate order; rates in percent, amounts in ``currency``."""

    remote_order_id: str
    remote_product_id: str
    order_status: str
    created_at: datetime
    delivered_at: datetime | None
    creator_username: str
    content_type: str
    content_id: str
    open_collaboration_id: str
    target_collaboration_id: str
    quantity: int
    currency: str
    price: Decimal
    commission_rate: Decimal
    estimated_commission_base: Decimal
    estimated_paid_commission: Decimal
    actual_commission_base: Decimal | None
    actual_paid_commission: Decimal | None
    refunded_quantity: int
    returned_quantity: int
    remote_sku_id: str = ""


@dataclass
class AttributionResult:
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    creators_created: list[str] = field(default_factory=list)
    orders_attributed: int = 0
    lines_attributed: int = 0
    orders_not_pulled_yet: int = 0

    def __iadd__(self, other: AttributionResult) -> AttributionResult:
        self.rows_created += other.rows_created
        self.rows_updated += other.rows_updated
        self.rows_unchanged += other.rows_unchanged
        self.creators_created += other.creators_created
        self.orders_attributed += other.orders_attributed
        self.lines_attributed += other.lines_attributed
        self.orders_not_pulled_yet += other.orders_not_pulled_yet
        return self


_ROW_FIELDS = (
    "order_status",
    "created_at_remote",
    "delivered_at_remote",
    "creator_username",
    "creator_id",
    "content_type",
    "content_id",
    "live_session_id",
    "open_collaboration_id",
    "target_collaboration_id",
    "quantity",
    "currency",
    "price",
    "commission_rate",
    "estimated_commission_base",
    "estimated_paid_commission",
    "actual_commission_base",
    "actual_paid_commission",
    "refunded_quantity",
    "returned_quantity",
)


def _creators_by_handle(usernames: set[str], result: AttributionResult) -> dict[str, Creator]:
    known = {creator.handle: creator for creator in Creator.objects.filter(handle__in=usernames)}
    for username in sorted(usernames - known.keys()):
        # TikTok is authoritative about who sold: an unknown affiliate becomes a CRM entry.
        creator, created = Creator.objects.get_or_create(handle=username)
        known[username] = creator
        if created:
            result.creators_created.append(username)
    return known


def affiliate_orders_record(*, shop: Shop, rows: Sequence[AffiliateOrderRow]) -> AttributionResult:
    """Store one page of affiliate rows and attribute their orders, in one transaction."""
    result = AttributionResult()
    if not rows:
        return result
    with transaction.atomic():
        # One writer per shop at a time (the hourly pull and a person's button): the rows are
        # read, compared and inserted under this lock, so two pulls cannot insert one row twice.
        _lock_shop(shop)
        creators = _creators_by_handle({row.creator_username for row in rows}, result)
        content_ids = {
            row.content_id for row in rows if row.content_type == LIVE and row.content_id
        }
        sessions = {
            session.remote_content_id: session
            for session in LiveSession.objects.filter(shop=shop, remote_content_id__in=content_ids)
        }
        existing = {
            (stored.remote_order_id, stored.remote_product_id, stored.remote_sku_id): stored
            for stored in AffiliateOrderSku.objects.select_for_update().filter(
                shop=shop, remote_order_id__in={row.remote_order_id for row in rows}
            )
        }
        touched_orders: set[str] = set()
        for row in rows:
            creator = creators[row.creator_username]
            session = sessions.get(row.content_id) if row.content_type == LIVE else None
            values = {
                "order_status": row.order_status,
                "created_at_remote": row.created_at,
                "delivered_at_remote": row.delivered_at,
                "creator_username": row.creator_username,
                "creator_id": creator.pk,
                "content_type": row.content_type,
                "content_id": row.content_id,
                "live_session_id": session.pk if session else None,
                "open_collaboration_id": row.open_collaboration_id,
                "target_collaboration_id": row.target_collaboration_id,
                "quantity": row.quantity,
                "currency": row.currency,
                "price": row.price,
                "commission_rate": row.commission_rate,
                "estimated_commission_base": row.estimated_commission_base,
                "estimated_paid_commission": row.estimated_paid_commission,
                "actual_commission_base": row.actual_commission_base,
                "actual_paid_commission": row.actual_paid_commission,
                "refunded_quantity": row.refunded_quantity,
                "returned_quantity": row.returned_quantity,
            }
            key = (row.remote_order_id, row.remote_product_id, row.remote_sku_id)
            stored = existing.get(key)
            if stored is None:
                stored = AffiliateOrderSku.objects.create(
                    shop=shop,
                    remote_order_id=row.remote_order_id,
                    remote_product_id=row.remote_product_id,
                    remote_sku_id=row.remote_sku_id,
                    **values,
                )
                existing[key] = stored
                result.rows_created += 1
            elif any(getattr(stored, name) != values[name] for name in _ROW_FIELDS):
                for name in _ROW_FIELDS:
                    setattr(stored, name, values[name])
                stored.save()
                result.rows_updated += 1
            else:
                result.rows_unchanged += 1
            touched_orders.add(row.remote_order_id)
        result += _link(shop=shop, remote_order_ids=touched_orders)
    return result


def _lock_shop(shop: Shop) -> None:
    """The app's one lock helper: the shop row, FOR UPDATE (a no-op on SQLite, whose write
    lock serialises writers anyway)."""
    Shop.objects.select_for_update().filter(pk=shop.pk).values_list("pk", flat=True).first()


def affiliate_orders_link(*, shop: Shop) -> AttributionResult:
    """Attribute orders that arrived after their affiliate rows (or were re-attributed)."""
    pending = set(
        AffiliateOrderSku.objects.filter(shop=shop, order__isnull=True).values_list(
            "remote_order_id", flat=True
        )
    )
    with transaction.atomic():
        _lock_shop(shop)
        return _link(shop=shop, remote_order_ids=pending)


def _link(*, shop: Shop, remote_order_ids: Iterable[str]) -> AttributionResult:
    """Copy the stored affiliate attribution onto orders and lines; only real changes write."""
    result = AttributionResult()
    wanted = set(remote_order_ids)
    if not wanted:
        return result
    orders = {
        order.remote_order_id: order
        for order in Order.objects.filter(shop=shop, remote_order_id__in=wanted)
    }
    rows_by_order: dict[str, list[AffiliateOrderSku]] = {}
    for stored in AffiliateOrderSku.objects.filter(shop=shop, remote_order_id__in=wanted):
        rows_by_order.setdefault(stored.remote_order_id, []).append(stored)
    result.orders_not_pulled_yet = len(wanted - orders.keys())
    lines_by_order: dict[int, list[OrderLine]] = {}
    for line in OrderLine.objects.filter(order__in=orders.values()):
        lines_by_order.setdefault(line.order_id, []).append(line)
    for remote_order_id, order in orders.items():
        stored_rows = rows_by_order[remote_order_id]
        AffiliateOrderSku.objects.filter(
            pk__in=[s.pk for s in stored_rows if s.order_id != order.pk]
        ).update(order=order)
        # An order has one creator on TikTok (one content sold it); take the first row's.
        lead = stored_rows[0]
        if (order.creator_id, order.live_session_id) != (lead.creator_id, lead.live_session_id):
            Order.objects.filter(pk=order.pk).update(
                creator_id=lead.creator_id, live_session_id=lead.live_session_id
            )
            result.orders_attributed += 1
        by_product = {(s.remote_product_id, s.remote_sku_id): s for s in stored_rows} | {
            (s.remote_product_id, ""): s for s in stored_rows
        }
        for line in lines_by_order.get(order.pk, []):
            match = by_product.get((line.remote_product_id, line.remote_sku_id)) or by_product.get(
                (line.remote_product_id, "")
            )
            if match is None:
                continue
            wanted_values = (match.creator_id, match.live_session_id, match.commission_rate)
            if (line.creator_id, line.live_session_id, line.commission_rate) != wanted_values:
                OrderLine.objects.filter(pk=line.pk).update(
                    creator_id=match.creator_id,
                    live_session_id=match.live_session_id,
                    commission_rate=match.commission_rate,
                )
                result.lines_attributed += 1
    return result


def affiliate_export_rows_attribute(*, shop: Shop) -> AttributionResult:
    """Attribution from Seller Center's "Affiliate orders" export (the imports app's rows), for
    shops connected by file instead of API: the same rows, the same rules, idempotent."""
    from aftershow.imports.models import AffiliateOrderRow as ExportRow

    rows = []
    for export in ExportRow.objects.filter(shop=shop).exclude(creator_username="").order_by("id"):
        if export.created_time is None or not export.remote_order_id:
            continue
        rows.append(
            AffiliateOrderRow(
                remote_order_id=export.remote_order_id,
                remote_product_id=export.remote_product_id,
                remote_sku_id=export.remote_sku_id,
                order_status=export.order_status,
                created_at=export.created_time,
                delivered_at=export.delivered_time,
                creator_username=export.creator_username.lstrip("@"),
                content_type=export.content_type.upper(),
                content_id=export.content_id,
                open_collaboration_id="",
                target_collaboration_id="",
                quantity=export.quantity,
                currency=export.currency,
                price=export.price,
                commission_rate=export.standard_commission_rate or Decimal("0.00"),
                estimated_commission_base=export.est_commission_base,
                estimated_paid_commission=export.est_standard_commission,
                actual_commission_base=export.actual_commission_base
                if export.commission_paid_time
                else None,
                actual_paid_commission=export.actual_commission
                if export.commission_paid_time
                else None,
                refunded_quantity=export.quantity if export.is_fully_returned else 0,
                returned_quantity=0,
            )
        )
    return affiliate_orders_record(shop=shop, rows=rows)
