"""Affiliate (``affiliate_seller``) endpoints: marketplace creators, targeted collaborations and
affiliate orders.

Paths and shapes: channel-apis.md §1.11 and the field lists of the third-party SDK it cites
(HSIB ``AffiliateSellerTypes.ts``); TikTok's own pages are not in the material we could read,
so these choices are the sandbox's, each one strict so a careless client fails here first:

- creators are keyed by ``username`` (what affiliate orders and collaborations report);
- collaboration rates are integers in **basis points** (1500 = 15 %), as HSIB documents for
  affiliate campaigns; affiliate orders report ``commission_rate`` as a string of basis points;
- page sizes: marketplace creators 1-20, target collaborations 1-20, affiliate orders 1-50;
  ``page_size`` is required and paging is by cursor (``page_token``/``next_page_token``);
- the affiliate orders search requires ``create_time_ge`` and ``create_time_lt`` (Unix seconds).

An order is affiliate-attributed only once :meth:`AffiliateDesk.attribute_order` (or
:meth:`AffiliateDesk.attribute_stream` for a simulated live stream) says which creator's content
sold it; its status, quantities and refunds are read from the order store at request time.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from .errors import ApiError, invalid_param
from .search import decode_page_token
from .server import Gateway, Request

if TYPE_CHECKING:
    from .simulator import StreamPlan
    from .store import SandboxStore

CREATOR_SEARCH_MAX_PAGE_SIZE = 20
TARGET_COLLABORATION_MAX_PAGE_SIZE = 20
AFFILIATE_ORDER_MAX_PAGE_SIZE = 50
RESOURCE_NOT_FOUND = 16001000  # affiliate module's "resource not found"
CONTENT_TYPES = frozenset({"LIVE", "VIDEO", "SHOWCASE"})
CENT = Decimal("0.01")


@dataclass
class MarketplaceCreator:
    username: str
    nickname: str
    follower_count: int
    category_ids: list[str] = field(default_factory=list)
    gmv_cents: int = 0
    live_gmv_cents: int = 0
    avg_ec_live_uv: int = 0
    selection_region: str = "US"

    def to_wire(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "nickname": self.nickname,
            "avatar": {"url": f"https://p16-sign.tiktokcdn-us.com/{self.username}.jpeg"},
            "selection_region": self.selection_region,
            "category_ids": list(self.category_ids),
            "avg_ec_live_uv": self.avg_ec_live_uv,
            "follower_count": self.follower_count,
            "gmv": _money(self.gmv_cents),
            "live_gmv": _money(self.live_gmv_cents),
            "video_gmv": _money(self.gmv_cents - self.live_gmv_cents),
        }


@dataclass
class TargetCollaboration:
    id: str
    shop_id: str
    name: str
    message: str
    start_time: int
    end_time: int
    products: dict[str, int]  # product id -> commission rate in basis points
    creator_usernames: list[str]
    update_time: int
    # When each product's current rate took effect (absent: the collaboration's start).
    effective_times: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "message": self.message,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "update_time": self.update_time,
            "creator_inivited_count": len(self.creator_usernames),  # sic, as the SDK spells it
            "product_count": len(self.products),
            "free_sample_rule": {"has_free_sample": True, "is_sample_approval_exempt": False},
            "type": "TARGET",
        }


@dataclass(frozen=True)
class Attribution:
    order_id: str
    creator_username: str
    content_type: str
    content_id: str
    commission_rate_bps: int
    target_collaboration_id: str = ""
    open_collaboration_id: str = ""


def _money(cents: int, currency: str = "USD") -> dict[str, str]:
    return {"amount": f"{Decimal(cents) / 100:.2f}", "currency": currency}


class AffiliateDesk:
    """The sandbox's affiliate state, beside the order store."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._creators: dict[str, MarketplaceCreator] = {}
        self._collaborations: dict[str, TargetCollaboration] = {}
        self._attributions: dict[str, Attribution] = {}

    # -- set-up ----------------------------------------------------------------------------

    def add_creator(
        self, username: str, *, follower_count: int, **extra: Any
    ) -> MarketplaceCreator:
        with self._lock:
            creator = MarketplaceCreator(
                username=username,
                nickname=extra.pop("nickname", username.replace(".", " ").title()),
                follower_count=follower_count,
                **extra,
            )
            self._creators[username] = creator
            return creator

    def add_target_collaboration(
        self,
        shop_id: str,
        *,
        name: str,
        creators: Sequence[str],
        products: Mapping[str, int],
        start_time: int,
        end_time: int,
        message: str = "",
    ) -> TargetCollaboration:
        for rate in products.values():
            if not 100 <= rate <= 8000:  # TikTok: target commission 1 %-80 %
                raise ValueError("target_commission_rate must be within [100, 8000] basis points")
        with self._lock:
            unknown = [username for username in creators if username not in self._creators]
            if unknown:
                raise ValueError(f"unknown creators: {unknown}")
            collaboration = TargetCollaboration(
                id=str(7_260_000_000_000_000_000 + len(self._collaborations) * 7919),
                shop_id=shop_id,
                name=name,
                message=message,
                start_time=start_time,
                end_time=end_time,
                products=dict(products),
                creator_usernames=list(creators),
                update_time=int(self.store.clock.epoch()),
            )
            self._collaborations[collaboration.id] = collaboration
            return collaboration

    def change_rate(self, collaboration_id: str, product_id: str, rate_bps: int) -> None:
        """The seller edits a product's rate; it takes effect now (virtual clock)."""
        with self._lock:
            collaboration = self._collaborations[collaboration_id]
            if product_id not in collaboration.products:
                raise KeyError(product_id)
            now = int(self.store.clock.epoch())
            collaboration.products[product_id] = rate_bps
            collaboration.effective_times[product_id] = now
            collaboration.update_time = now

    def attribute_order(
        self,
        order_id: str,
        *,
        creator_username: str,
        content_id: str,
        commission_rate_bps: int,
        content_type: str = "LIVE",
        target_collaboration_id: str = "",
    ) -> Attribution:
        if content_type not in CONTENT_TYPES:
            raise ValueError(f"content_type must be one of {sorted(CONTENT_TYPES)}")
        attribution = Attribution(
            order_id=order_id,
            creator_username=creator_username,
            content_type=content_type,
            content_id=content_id,
            commission_rate_bps=commission_rate_bps,
            target_collaboration_id=target_collaboration_id,
            open_collaboration_id="" if target_collaboration_id else f"oc{order_id[-6:]}",
        )
        with self._lock:
            self._attributions[order_id] = attribution
        return attribution

    def attribute_stream(
        self,
        plan: StreamPlan,
        *,
        creators: Sequence[tuple[str, str, float]],
        commission_rate_bps: int = 1500,
        seed: int = 0,
    ) -> Counter[str]:
        """Split a planned stream's orders among creators' LIVEs.

        ``creators`` lists ``(username, content_id, share)``; shares may add up to less than 1,
        the rest being the shop's own, unattributed sales. Orders that fall in a targeted
        collaboration naming the creator carry its id and product rate. Returns orders per
        username.
        """
        if sum(share for _u, _c, share in creators) > 1.0 + 1e-9:
            raise ValueError("creator shares add up to more than 1")
        rng = random.Random(seed)
        counts: Counter[str] = Counter()
        for planned in plan.orders:
            point, cumulative = rng.random(), 0.0
            for username, content_id, share in creators:
                cumulative += share
                if point < cumulative:
                    collaboration = self._collaboration_for(
                        plan.shop_id, username, planned.draft.create_time
                    )
                    rate = commission_rate_bps
                    if collaboration is not None:
                        product_ids = {line.product_id for line in planned.draft.lines}
                        rates = [collaboration.products.get(p) for p in product_ids]
                        rate = max((r for r in rates if r is not None), default=rate)
                    self.attribute_order(
                        planned.order_id,
                        creator_username=username,
                        content_id=content_id,
                        commission_rate_bps=rate,
                        target_collaboration_id=collaboration.id if collaboration else "",
                    )
                    counts[username] += 1
                    break
        return counts

    def _collaboration_for(
        self, shop_id: str, username: str, at: int
    ) -> TargetCollaboration | None:
        with self._lock:
            for collaboration in self._collaborations.values():
                if (
                    collaboration.shop_id == shop_id
                    and username in collaboration.creator_usernames
                    and collaboration.start_time <= at < collaboration.end_time
                ):
                    return collaboration
        return None

    # -- reads -----------------------------------------------------------------------------

    def creators(self) -> list[MarketplaceCreator]:
        with self._lock:
            return sorted(self._creators.values(), key=lambda c: (-c.follower_count, c.username))

    def creator(self, username: str) -> MarketplaceCreator | None:
        with self._lock:
            return self._creators.get(username)

    def collaborations(self, shop_id: str) -> list[TargetCollaboration]:
        with self._lock:
            found = [c for c in self._collaborations.values() if c.shop_id == shop_id]
        return sorted(found, key=lambda c: (c.start_time, c.id))

    def collaboration(self, shop_id: str, collaboration_id: str) -> TargetCollaboration | None:
        with self._lock:
            found = self._collaborations.get(collaboration_id)
        return found if found is not None and found.shop_id == shop_id else None

    def attributions(self) -> list[Attribution]:
        with self._lock:
            return list(self._attributions.values())

    def affiliate_order_ids(self, shop_id: str, create_ge: int, create_lt: int) -> list[str]:
        with self._lock:
            attributed = list(self._attributions)
        found: list[tuple[int, str]] = []
        # Orders of this shop that have been placed (planned ones are not in the store yet).
        for raw in self.store.orders_json(shop_id, attributed):
            order = json.loads(raw)
            if create_ge <= order["create_time"] < create_lt:
                found.append((order["create_time"], order["id"]))
        return [order_id for _t, order_id in sorted(found)]

    def affiliate_order_wire(self, order_id: str) -> dict[str, Any]:
        attribution = self._attributions[order_id]
        order = self.store.get_order(order_id)
        refunded_ids = {
            item["order_line_item_id"]
            for record in self.store.returns()
            if record.get("order_id") == order_id
            for item in record.get("return_line_items", [])
            if "order_line_item_id" in item
        }
        groups: dict[str, list[dict[str, Any]]] = {}
        for item in order["line_items"]:
            groups.setdefault(item["product_id"], []).append(item)
        rate = Decimal(attribution.commission_rate_bps) / Decimal(10_000)
        status = order["status"]
        skus = []
        for product_id, items in groups.items():
            quantity = len(items)
            base = sum((Decimal(item["sale_price"]) for item in items), Decimal("0"))
            cancelled = status == "CANCELLED"
            refunded = quantity if cancelled else 0
            returned = sum(1 for item in items if item.get("id") in refunded_ids)
            sku: dict[str, Any] = {
                "open_collaboration_id": attribution.open_collaboration_id,
                "target_collaboration_id": attribution.target_collaboration_id,
                "campaign_id": "",
                "creator_username": attribution.creator_username,
                "price": {"amount": items[0]["sale_price"], "currency": order_currency(order)},
                "quantity": quantity,
                "content_type": attribution.content_type,
                "content_id": attribution.content_id,
                "product_id": product_id,
                "commission_rate": str(attribution.commission_rate_bps),
                "shop_ads_commission_rate": "0",
                "estimated_commission_base": {
                    "amount": f"{base:.2f}",
                    "currency": order_currency(order),
                },
                "estimated_paid_commission": {
                    "amount": f"{(base * rate).quantize(CENT, ROUND_HALF_UP):.2f}",
                    "currency": order_currency(order),
                },
                "refunded_quantity": refunded,
                "returned_quantity": returned,
            }
            if status == "COMPLETED" or cancelled:
                kept = quantity - refunded - returned
                actual_base = base * kept / quantity
                sku["actual_commission_base"] = {
                    "amount": f"{actual_base.quantize(CENT, ROUND_HALF_UP):.2f}",
                    "currency": order_currency(order),
                }
                sku["actual_paid_commission"] = {
                    "amount": f"{(actual_base * rate).quantize(CENT, ROUND_HALF_UP):.2f}",
                    "currency": order_currency(order),
                }
            skus.append(sku)
        wire: dict[str, Any] = {
            "id": order_id,
            "status": status,
            "create_time": order["create_time"],
            "skus": skus,
        }
        if order.get("delivery_time"):
            wire["delivery_time"] = order["delivery_time"]
        return wire


def order_currency(order: Mapping[str, Any]) -> str:
    payment = order.get("payment") or {}
    return str(payment.get("currency", "USD"))


def _page_size(request: Request, maximum: int) -> int:
    raw = request.query.get("page_size", "")
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise invalid_param(f"page_size must be an integer within [1, {maximum}], got {raw!r}")
    return int(raw)


def _page(
    desk: AffiliateDesk, request: Request, kind: str, ids: list[str] | None, size: int
) -> tuple[list[str], str, int]:
    token = request.query.get("page_token", "")
    if token:
        key, offset = decode_page_token(token)
    else:
        assert ids is not None
        key, offset = desk.store.snapshots.remember(request.shop_id, kind, ids), 0
    return desk.store.page(request.shop_id, kind, key, offset, size)


def _unix_seconds(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid_param(f"{name} is required and must be Unix seconds (an integer)")
    return value


def register_affiliate(gateway: Gateway) -> AffiliateDesk:
    desk = AffiliateDesk(gateway.store)

    def search_creators(request: Request) -> dict[str, Any]:
        size = _page_size(request, CREATOR_SEARCH_MAX_PAGE_SIZE)
        ids: list[str] | None = None
        if not request.query.get("page_token"):
            body = request.json_body()
            keyword = body.get("keyword", "")
            if not isinstance(keyword, str):
                raise invalid_param("keyword must be a string")
            count_range = (body.get("follower_demographics") or {}).get("count_range") or {}
            low, high = count_range.get("count_ge", 0), count_range.get("count_le")
            for bound in (low, high):
                if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
                    raise invalid_param("count_range bounds must be integers")
            needle = keyword.lower()
            ids = [
                creator.username
                for creator in desk.creators()
                if (needle in creator.username.lower() or needle in creator.nickname.lower())
                and creator.follower_count >= low
                and (high is None or creator.follower_count <= high)
            ]
        usernames, next_token, _total = _page(desk, request, "creators", ids, size)
        creators = [desk.creator(username) for username in usernames]
        return {
            "creators": [creator.to_wire() for creator in creators if creator is not None],
            "next_page_token": next_token,
            "search_key": "",
        }

    def creator_performance(request: Request) -> dict[str, Any]:
        creator = desk.creator(request.path_params["username"])
        if creator is None:
            raise ApiError(RESOURCE_NOT_FOUND, "The creator does not exist.")
        wire = creator.to_wire()
        wire.update({"bio_description": "", "ec_live_count": 0, "units_sold": 0})
        return {"creator": wire}

    def search_target_collaborations(request: Request) -> dict[str, Any]:
        size = _page_size(request, TARGET_COLLABORATION_MAX_PAGE_SIZE)
        ids: list[str] | None = None
        if not request.query.get("page_token"):
            body = request.json_body()
            status = body.get("collaboration_status")
            if status not in ("ONGOING", "EXPIRED", "ALL"):
                raise invalid_param("collaboration_status must be ONGOING, EXPIRED or ALL")
            now = int(desk.store.clock.epoch())
            ids = [
                c.id
                for c in desk.collaborations(request.shop_id)
                if status == "ALL" or (c.end_time > now) == (status == "ONGOING")
            ]
        page_ids, next_token, total = _page(desk, request, "target_collaborations", ids, size)
        found = [desk.collaboration(request.shop_id, cid) for cid in page_ids]
        return {
            "target_collaborations": [c.summary() for c in found if c is not None],
            "next_page_token": next_token,
            "total_count": total,
        }

    def target_collaboration_detail(request: Request) -> dict[str, Any]:
        collaboration = desk.collaboration(request.shop_id, request.path_params["id"])
        if collaboration is None:
            raise ApiError(RESOURCE_NOT_FOUND, "The target collaboration does not exist.")
        wire = collaboration.summary()
        wire["products"] = [
            {
                "id": product_id,
                "commission": {
                    "rate": rate,
                    "effective_time": str(
                        collaboration.effective_times.get(product_id, collaboration.start_time)
                    ),
                },
                "status": "ACTIVE",
            }
            for product_id, rate in sorted(collaboration.products.items())
        ]
        creators = [desk.creator(username) for username in collaboration.creator_usernames]
        wire["creators"] = [
            {
                "username": creator.username,
                "nickname": creator.nickname,
                "avatar": {"url": creator.to_wire()["avatar"]["url"]},
                "collaboration_status": "ACCEPTED",
            }
            for creator in creators
            if creator is not None
        ]
        return {"target_collaboration": wire}

    def search_orders(request: Request) -> dict[str, Any]:
        size = _page_size(request, AFFILIATE_ORDER_MAX_PAGE_SIZE)
        ids: list[str] | None = None
        if not request.query.get("page_token"):
            body = request.json_body()
            create_ge = _unix_seconds(body, "create_time_ge")
            create_lt = _unix_seconds(body, "create_time_lt")
            if create_lt <= create_ge:
                raise invalid_param("create_time_lt must be after create_time_ge")
            ids = desk.affiliate_order_ids(request.shop_id, create_ge, create_lt)
        page_ids, next_token, total = _page(desk, request, "affiliate_orders", ids, size)
        return {
            "orders": [desk.affiliate_order_wire(order_id) for order_id in page_ids],
            "next_page_token": next_token,
            "total_count": total,
        }

    gateway.add_route(
        "POST", "/affiliate_seller/202406/marketplace_creators/search", search_creators
    )
    gateway.add_route(
        "GET",
        r"/affiliate_seller/(?:202406|202505)/marketplace_creators/(?P<username>[\w.]+)",
        creator_performance,
    )
    gateway.add_route(
        "POST",
        "/affiliate_seller/202409/target_collaborations/search",
        search_target_collaborations,
    )
    gateway.add_route(
        "GET",
        r"/affiliate_seller/202409/target_collaborations/(?P<id>\d+)",
        target_collaboration_detail,
    )
    gateway.add_route("POST", "/affiliate_seller/(?:202405|202410)/orders/search", search_orders)
    return desk
