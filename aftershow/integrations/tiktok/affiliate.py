"""TikTok Shop affiliate (``affiliate_seller``): creator search, targeted collaborations and
affiliate orders, mapped at the edge and handed to the creators app's services.

Paths and fields: channel-apis.md §1.11. Units, as the loopback sandbox enforces them:
collaboration rates are integers in basis points (1500 = 15 %), and affiliate orders report
``commission_rate`` as a string of basis points; both become percents here, in one place
(:func:`percent_from_basis_points`), so a unit correction touches one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django_tasks import task
from pydantic import BaseModel, ConfigDict, Field

from aftershow.audit.models import AuditAction, AuditEvent
from aftershow.core.money import parse_amount
from aftershow.core.timeutils import from_unix, to_unix, utcnow
from aftershow.creators.attribution import (
    AffiliateOrderRow,
    AttributionResult,
    affiliate_orders_link,
    affiliate_orders_record,
)
from aftershow.creators.models import CollaborationKind
from aftershow.creators.remote import (
    RemoteCollaboration,
    RemoteCreatorProfile,
    RemoteImportResult,
    RemoteProductRate,
    collaborations_upsert_remote,
    creators_upsert_remote,
)
from aftershow.integrations.models import SyncCursor
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.shops.models import Channel, Shop

CREATOR_SEARCH_PATH = "/affiliate_seller/202406/marketplace_creators/search"
TARGET_SEARCH_PATH = "/affiliate_seller/202409/target_collaborations/search"
TARGET_DETAIL_PATH = "/affiliate_seller/202409/target_collaborations/{id}"
AFFILIATE_ORDERS_PATH = "/affiliate_seller/202410/orders/search"
CREATOR_SEARCH_PAGE_SIZE = 20
TARGET_SEARCH_PAGE_SIZE = 20
AFFILIATE_ORDERS_PAGE_SIZE = 50
AFFILIATE_CURSOR = "tiktok.affiliate_orders"
# Affiliate orders change after they are created (delivery, refunds, actual commission), so
# every pull re-reads this far back; the writes are idempotent, only real changes are saved.
AFFILIATE_REFRESH_LOOKBACK = timedelta(days=45)
INITIAL_LOOKBACK = timedelta(days=30)
PULL_LAG = timedelta(seconds=30)
BASIS_POINTS_PER_PERCENT = Decimal(100)


def percent_from_basis_points(value: str | int) -> Decimal:
    return (Decimal(str(value)) / BASIS_POINTS_PER_PERCENT).quantize(Decimal("0.01"))


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WireAmount(_Wire):
    amount: str = ""
    currency: str = "USD"


class WireCreator(_Wire):
    username: str
    nickname: str = ""
    follower_count: int = 0


class WireCreatorPage(_Wire):
    creators: list[WireCreator] = Field(default_factory=list)
    next_page_token: str = ""


class WireTargetSummary(_Wire):
    id: str


class WireTargetPage(_Wire):
    target_collaborations: list[WireTargetSummary] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class WireCommission(_Wire):
    rate: int
    effective_time: str = ""


class WireTargetProduct(_Wire):
    id: str
    commission: WireCommission


class WireTargetCreator(_Wire):
    username: str


class WireTargetDetail(_Wire):
    id: str
    name: str = ""
    message: str = ""
    start_time: int
    end_time: int | None = None
    products: list[WireTargetProduct] = Field(default_factory=list)
    creators: list[WireTargetCreator] = Field(default_factory=list)


class WireAffiliateSku(_Wire):
    product_id: str
    creator_username: str
    content_type: str = ""
    content_id: str = ""
    open_collaboration_id: str = ""
    target_collaboration_id: str = ""
    quantity: int = 1
    price: WireAmount
    commission_rate: str = "0"
    estimated_commission_base: WireAmount = Field(default_factory=WireAmount)
    estimated_paid_commission: WireAmount = Field(default_factory=WireAmount)
    actual_commission_base: WireAmount | None = None
    actual_paid_commission: WireAmount | None = None
    refunded_quantity: int = 0
    returned_quantity: int = 0


class WireAffiliateOrder(_Wire):
    id: str
    status: str = ""
    create_time: int
    delivery_time: int | None = None
    skus: list[WireAffiliateSku] = Field(default_factory=list)


class WireAffiliateOrderPage(_Wire):
    orders: list[WireAffiliateOrder] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


def _aware(value: int) -> datetime:
    at = from_unix(value)
    if at is None:
        raise ValueError("a required TikTok timestamp is empty")
    return at


def to_affiliate_rows(order: WireAffiliateOrder) -> list[AffiliateOrderRow]:
    rows = []
    for sku in order.skus:
        actual_base = sku.actual_commission_base
        actual_paid = sku.actual_paid_commission
        rows.append(
            AffiliateOrderRow(
                remote_order_id=order.id,
                remote_product_id=sku.product_id,
                order_status=order.status,
                created_at=_aware(order.create_time),
                delivered_at=from_unix(order.delivery_time),
                creator_username=sku.creator_username.lstrip("@"),
                content_type=sku.content_type,
                content_id=sku.content_id,
                open_collaboration_id=sku.open_collaboration_id,
                target_collaboration_id=sku.target_collaboration_id,
                quantity=sku.quantity,
                currency=sku.price.currency,
                price=parse_amount(sku.price.amount),
                commission_rate=percent_from_basis_points(sku.commission_rate or "0"),
                estimated_commission_base=parse_amount(sku.estimated_commission_base.amount),
                estimated_paid_commission=parse_amount(sku.estimated_paid_commission.amount),
                actual_commission_base=parse_amount(actual_base.amount) if actual_base else None,
                actual_paid_commission=parse_amount(actual_paid.amount) if actual_paid else None,
                refunded_quantity=sku.refunded_quantity,
                returned_quantity=sku.returned_quantity,
            )
        )
    return rows


def to_remote_collaboration(detail: WireTargetDetail) -> RemoteCollaboration:
    starts_at = _aware(detail.start_time)
    return RemoteCollaboration(
        remote_id=detail.id,
        kind=CollaborationKind.TARGETED,
        name=detail.name,
        message=detail.message,
        starts_at=starts_at,
        ends_at=from_unix(detail.end_time),
        creator_usernames=tuple(c.username.lstrip("@") for c in detail.creators),
        product_rates=tuple(
            RemoteProductRate(
                remote_product_id=product.id,
                platform_rate=percent_from_basis_points(product.commission.rate),
                effective_at=from_unix(product.commission.effective_time) or starts_at,
            )
            for product in detail.products
        ),
    )


@dataclass
class AffiliatePullReport:
    pages: int = 0
    orders_seen: int = 0
    result: AttributionResult | None = None


class TikTokAffiliate:
    """The affiliate side of one TikTok shop."""

    def __init__(self, shop: Shop, connector: TikTokConnector | None = None) -> None:
        self.connector = connector or TikTokConnector(shop)
        self.shop = shop

    def _call(
        self, method: str, path: str, *, query: dict[str, str | int], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        client = self.connector.client
        return self.connector._authorized(lambda: client.call(method, path, query=query, body=body))

    # -- creators --------------------------------------------------------------------------

    def search_creators(self, *, keyword: str = "", max_creators: int = 200) -> list[WireCreator]:
        found: list[WireCreator] = []
        token = ""
        while len(found) < max_creators:
            data = self._call(
                "POST",
                CREATOR_SEARCH_PATH,
                query={"page_size": CREATOR_SEARCH_PAGE_SIZE, "page_token": token},
                body={"keyword": keyword},
            )
            page = WireCreatorPage.model_validate(data)
            found.extend(page.creators)
            token = page.next_page_token
            if not token:
                break
        return found[:max_creators]

    def import_creators(self, *, keyword: str = "", max_creators: int = 200) -> RemoteImportResult:
        creators = self.search_creators(keyword=keyword, max_creators=max_creators)
        return creators_upsert_remote(
            profiles=[
                RemoteCreatorProfile(
                    username=c.username.lstrip("@"),
                    nickname=c.nickname,
                    follower_count=c.follower_count,
                )
                for c in creators
            ]
        )

    # -- collaborations --------------------------------------------------------------------

    def target_collaborations(self) -> list[WireTargetDetail]:
        ids: list[str] = []
        token = ""
        while True:
            data = self._call(
                "POST",
                TARGET_SEARCH_PATH,
                query={"page_size": TARGET_SEARCH_PAGE_SIZE, "page_token": token},
                body={"collaboration_status": "ALL"},
            )
            page = WireTargetPage.model_validate(data)
            ids.extend(summary.id for summary in page.target_collaborations)
            token = page.next_page_token
            if not token:
                break
        details = []
        for collaboration_id in ids:
            data = self._call(
                "GET", TARGET_DETAIL_PATH.format(id=collaboration_id), query={}, body=None
            )
            details.append(WireTargetDetail.model_validate(data["target_collaboration"]))
        return details

    def import_collaborations(self) -> RemoteImportResult:
        details = self.target_collaborations()
        return collaborations_upsert_remote(
            shop=self.shop, collaborations=[to_remote_collaboration(d) for d in details]
        )

    # -- affiliate orders ------------------------------------------------------------------

    def pull_orders_between(self, *, since: datetime, until: datetime) -> AffiliatePullReport:
        """Every affiliate order created in ``[since, until)``, page by page, each page in its
        own transaction; re-running it is harmless."""
        report = AffiliatePullReport(result=AttributionResult())
        body = {"create_time_ge": to_unix(since), "create_time_lt": to_unix(until)}
        token = ""
        while True:
            data = self._call(
                "POST",
                AFFILIATE_ORDERS_PATH,
                query={"page_size": AFFILIATE_ORDERS_PAGE_SIZE, "page_token": token},
                body=body,
            )
            page = WireAffiliateOrderPage.model_validate(data)
            rows = [row for order in page.orders for row in to_affiliate_rows(order)]
            assert report.result is not None
            report.result += affiliate_orders_record(shop=self.shop, rows=rows)
            report.pages += 1
            report.orders_seen += len(page.orders)
            token = page.next_page_token
            if not token:
                break
        assert report.result is not None
        linked = affiliate_orders_link(shop=self.shop)
        report.result += linked
        # What is still waiting for its order is what the final pass found, not a page sum.
        report.result.orders_not_pulled_yet = linked.orders_not_pulled_yet
        return report

    def pull_orders(self, *, until: datetime | None = None) -> AffiliatePullReport:
        """The scheduled pull: from the watermark minus the refresh lookback, up to now."""
        cursor, _ = SyncCursor.objects.get_or_create(shop=self.shop, kind=AFFILIATE_CURSOR)
        window_end = until or utcnow() - PULL_LAG
        watermark = cursor.watermark or window_end - INITIAL_LOOKBACK
        since = min(watermark, window_end) - AFFILIATE_REFRESH_LOOKBACK
        report = self.pull_orders_between(since=since, until=window_end)
        cursor.watermark = window_end
        cursor.save(update_fields=["watermark", "updated_at"])
        AuditEvent.objects.create(
            action=AuditAction.PULL_COMPLETED,
            object_type="shop",
            object_id=str(self.shop.pk),
            message=f"TikTok affiliate orders: {report.orders_seen} read in {report.pages} pages",
        )
        return report


@task()
def pull_affiliate_orders(shop_id: int) -> int:
    """Thin: one shop's scheduled affiliate pull. Safe to run twice (idempotent writes)."""
    return TikTokAffiliate(Shop.objects.get(pk=shop_id)).pull_orders().orders_seen


def enqueue_affiliate_order_pulls() -> int:
    """For the scheduler: one pull task per active TikTok shop."""
    shops = list(Shop.objects.filter(is_active=True, channel=Channel.TIKTOK))
    for shop in shops:
        pull_affiliate_orders.enqueue(shop.pk)
    return len(shops)
