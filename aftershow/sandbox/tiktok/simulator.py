"""Live-stream order bursts: when orders arrive, what they contain, and what is wrong with them.

Volume: ``N = round(viewers x conversion_rate)`` orders (rounded half up), each placed by a
viewer during the stream; ``followers`` only shapes how fast the audience arrives.

Arrivals come in waves, drawn from a mixture (seeded, so a seed reproduces the plan):

- background (35 % of orders): a ramp-up as viewers join, density ∝ 1 - exp(-t/τ), with
  τ = 12 - 2·log10(followers / 1000) minutes clamped to [3, 12] (a big following gets the
  "LIVE now" notification and arrives faster);
- showcases (the rest): every 8-15 minutes the host pins a product; orders then spike and decay
  exponentially (time constant 1.5-4 minutes) with the pinned SKU over-weighted (60 % of that
  burst's units) and sold at a 15 % live discount; each burst has a random strength;
- a final "last chance" spike 5-8 minutes before the end, twice as strong as an average burst.

Anomalies are independent draws (see :class:`AnomalyRates`); every planned order lists the ones
it carries, as ground truth for screening tests and the demo.
"""

from __future__ import annotations

import dataclasses
import math
import random
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import accumulate
from typing import Any

from .addresses import BROKEN_KINDS, AddressKind, Recipient, anonymized_email, make_recipient
from .orders import (
    BUYER_CANCEL_REASONS,
    DAY,
    PAYMENT_METHODS,
    Buyer,
    LineDraft,
    OrderDraft,
    build_delivered_order,
    build_return,
    to_cents,
)
from .store import Product, SandboxStore, Sku

BACKGROUND_SHARE = 0.35
SHOWCASE_SKU_SHARE = 0.6
LIVE_DISCOUNT_PERCENT = 15
REPEAT_CLUSTER_SIZES = (2, 2, 3, 3, 4)
REPEAT_WINDOW_SECONDS = (60, 480)  # follow-up orders 1-8 minutes after the first
BUYER_MESSAGES = (
    "Please ship fast!",
    "It's a gift, no receipt please",
    "Saw this on the live!",
    "Leave at the back door",
    "Can you add a free sticker?",
)
RETURN_REASONS = (
    "Item doesn't fit",
    "Changed my mind",
    "Item not as described",
    "Received wrong item",
    "Quality not as expected",
)


class Anomaly(StrEnum):
    BROKEN_ADDRESS = "broken_address"  # one of the three below
    MISSING_STREET_NUMBER = "missing_street_number"
    MISSING_ZIP = "missing_zip"
    ZIP_STATE_MISMATCH = "zip_state_mismatch"
    PO_BOX = "po_box"
    REMOTE_DESTINATION = "remote_destination"  # AK HI PR GU VI AS MP, or military (below)
    MILITARY_ADDRESS = "military_apo_fpo"
    REPEAT_BUYER = "repeat_buyer"
    RETURN_HISTORY = "return_history"
    CANCELLED_IN_REMORSE = "cancelled_in_remorse_window"
    MULTI_LINE = "multi_line"


@dataclass(frozen=True)
class AnomalyRates:
    """Expected fraction of a stream's orders carrying each anomaly.

    Address anomalies are drawn once per buyer and are mutually exclusive; a repeat buyer's
    orders share one address. Defaults are what a mid-size US live seller sees.
    """

    broken_address: float = 0.03  # missing street number / missing ZIP / ZIP of another state
    po_box: float = 0.02  # "PO Box 123" and its spellings: carriers that need a street refuse it
    remote_destination: float = 0.03  # AK, HI, PR, GU, VI, AS, MP (3/4) or APO/FPO/DPO (1/4)
    repeat_buyer: float = 0.05  # orders from buyers who order 2-4 times within minutes
    return_history: float = 0.03  # buyers with past delivered orders that they returned
    cancellation: float = 0.04  # the buyer cancels within the 1-hour remorse window
    multi_line: float = 0.25  # orders with 2-4 line items (units)

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.broken_address + self.po_box + self.remote_destination > 1.0:
            raise ValueError("address anomaly rates add up to more than 1")


@dataclass(frozen=True)
class StreamSpec:
    creator_handle: str = "@sandbox.live"
    followers: int = 50_000
    viewers: int = 20_000
    conversion_rate: float = 0.02
    duration: timedelta = timedelta(hours=3)
    sku_mix: Mapping[str, float] = field(default_factory=dict)  # empty: the shop's SKUs, equally
    anomalies: AnomalyRates = field(default_factory=AnomalyRates)
    start: datetime | None = None  # None: the sandbox clock's now
    seed: int = 0
    shop_id: str | None = None  # None: the sandbox's only shop
    tiktok_shipping_rate: float = 0.0  # share of orders shipped with TikTok Shipping labels

    @property
    def order_count(self) -> int:
        return math.floor(self.viewers * self.conversion_rate + 0.5)


@dataclass(frozen=True)
class Showcase:
    offset: timedelta
    seller_sku: str
    strength: float
    is_last_chance: bool = False


@dataclass(frozen=True)
class PlannedOrder:
    order_id: str
    arrival: datetime
    offset: timedelta  # since the stream started
    buyer_user_id: str
    seller_skus: tuple[str, ...]  # one entry per unit, i.e. per line item
    anomalies: frozenset[str]
    address_kind: AddressKind
    cancel_at: datetime | None
    showcase: int | None  # index into plan.showcases, None for background orders
    draft: OrderDraft = field(repr=False, compare=False)


@dataclass
class StreamPlan:
    spec: StreamSpec
    shop_id: str
    start: datetime
    end: datetime
    orders: list[PlannedOrder]
    showcases: list[Showcase]
    history_orders: list[tuple[dict[str, Any], Recipient]] = field(repr=False, default_factory=list)
    history_returns: list[dict[str, Any]] = field(repr=False, default_factory=list)

    def with_anomaly(self, anomaly: str) -> list[PlannedOrder]:
        return [order for order in self.orders if anomaly in order.anomalies]

    def anomaly_counts(self) -> Counter[str]:
        return Counter(anomaly for order in self.orders for anomaly in order.anomalies)

    def per_minute_counts(self) -> list[int]:
        minutes = math.ceil(self.spec.duration.total_seconds() / 60)
        counts = [0] * minutes
        for order in self.orders:
            counts[min(int(order.offset.total_seconds() // 60), minutes - 1)] += 1
        return counts

    def order(self, order_id: str) -> PlannedOrder:
        return next(order for order in self.orders if order.order_id == order_id)


@dataclass
class _Buyer:
    buyer: Buyer
    kind: AddressKind
    has_return_history: bool
    combine_group_id: str
    is_repeat: bool = False


class _Planner:
    def __init__(self, store: SandboxStore, spec: StreamSpec, start: datetime) -> None:
        self.store = store
        self.spec = spec
        self.start = start
        self.rng = random.Random(spec.seed)
        self.rates = spec.anomalies
        self.duration = spec.duration.total_seconds()
        shops = store.shops()
        if spec.shop_id is None and len(shops) != 1:
            raise ValueError("StreamSpec.shop_id is required when the sandbox has several shops")
        self.shop = store.get_shop(spec.shop_id) if spec.shop_id else shops[0]
        self.catalog = self._catalog()
        self.sku_names = list(self.catalog)
        self.sku_cumulative = list(accumulate(self.catalog[s][2] for s in self.sku_names))

    def _catalog(self) -> dict[str, tuple[Product, Sku, float]]:
        if self.spec.sku_mix:
            mix = dict(self.spec.sku_mix)
        else:
            mix = {s.seller_sku: 1.0 for p in self.store.products(self.shop.id) for s in p.skus}
        if not mix:
            raise ValueError("the shop has no products: add some before simulating a stream")
        catalog = {}
        for seller_sku, weight in sorted(mix.items()):
            if weight <= 0:
                raise ValueError(f"sku_mix weight for {seller_sku!r} must be positive")
            product, sku = self.store.find_sku(self.shop.id, seller_sku)
            catalog[seller_sku] = (product, sku, float(weight))
        return catalog

    def weighted_sku(self) -> str:
        point = self.rng.random() * self.sku_cumulative[-1]
        return self.sku_names[bisect_right(self.sku_cumulative, point)]

    # -- when ------------------------------------------------------------------------------

    def showcases(self) -> list[Showcase]:
        shows: list[Showcase] = []
        at = self.rng.uniform(180, 480)
        last_sku = ""
        while at < self.duration - 600:
            sku = self.weighted_sku()
            if sku == last_sku and len(self.sku_names) > 1:
                sku = self.weighted_sku()
            shows.append(Showcase(timedelta(seconds=at), sku, self.rng.lognormvariate(0, 0.35)))
            last_sku = sku
            at += self.rng.uniform(480, 900)
        mean_strength = sum(s.strength for s in shows) / len(shows) if shows else 1.0
        final_at = max(0.0, self.duration - self.rng.uniform(300, 480))
        shows.append(
            Showcase(
                timedelta(seconds=final_at),
                self.weighted_sku(),
                2.0 * mean_strength,
                is_last_chance=True,
            )
        )
        return shows

    def arrivals(self, count: int, shows: list[Showcase]) -> list[tuple[float, int | None]]:
        followers = max(self.spec.followers, 1)
        tau = min(12.0, max(3.0, 12.0 - 2.0 * math.log10(max(followers / 1000, 1e-9)))) * 60
        decays = [self.rng.uniform(90, 240) for _ in shows]
        cumulative = list(accumulate(s.strength for s in shows))
        out: list[tuple[float, int | None]] = []
        for _ in range(count):
            if self.rng.random() < BACKGROUND_SHARE:
                while True:
                    t = self.rng.uniform(0, self.duration)
                    if self.rng.random() < 1 - math.exp(-t / tau):
                        out.append((t, None))
                        break
                continue
            index = bisect_right(cumulative, self.rng.random() * cumulative[-1])
            index = min(index, len(shows) - 1)
            begin = shows[index].offset.total_seconds()
            while True:
                t = begin + self.rng.expovariate(1 / decays[index])
                if t < self.duration:
                    out.append((t, index))
                    break
        out.sort(key=lambda item: item[0])
        return out

    # -- who -------------------------------------------------------------------------------

    def new_buyer(self) -> _Buyer:
        rates, draw = self.rates, self.rng.random()
        if draw < rates.broken_address:
            kind = self.rng.choice(BROKEN_KINDS)
        elif draw < rates.broken_address + rates.po_box:
            kind = AddressKind.PO_BOX
        elif draw < rates.broken_address + rates.po_box + rates.remote_destination:
            kind = AddressKind.MILITARY if self.rng.random() < 0.25 else AddressKind.REMOTE
        else:
            kind = AddressKind.VALID
        nickname = (
            self.rng.choice(("shop", "deal", "live", "mama", "the"))
            + self.rng.choice(("lover", "hunter", "queen", "guy", "fan"))
            + str(self.rng.randrange(1000))
        )
        buyer = Buyer(
            user_id=self.store.ids.new("user"),
            email=anonymized_email(self.rng),
            nickname=nickname,
            recipient=make_recipient(self.rng, kind),
        )
        return _Buyer(
            buyer,
            kind,
            self.rng.random() < rates.return_history,
            self.store.ids.new("combine_group"),
        )

    def assign_buyers(self, times: list[float]) -> list[_Buyer]:
        size_mean = sum(REPEAT_CLUSTER_SIZES) / len(REPEAT_CLUSTER_SIZES)
        share = self.rates.repeat_buyer
        # A fraction f of orders in clusters of mean size k needs p = f / (k - f(k - 1)) heads.
        head_probability = share / (size_mean - share * (size_mean - 1)) if share else 0.0
        buyers: list[_Buyer | None] = [None] * len(times)
        for index, moment in enumerate(times):
            if buyers[index] is not None:
                continue
            buyer = self.new_buyer()
            buyers[index] = buyer
            if self.rng.random() >= head_probability:
                continue
            low = bisect_left(times, moment + REPEAT_WINDOW_SECONDS[0])
            high = bisect_right(times, moment + REPEAT_WINDOW_SECONDS[1])
            free = [j for j in range(low, high) if buyers[j] is None]
            follow_ups = self.rng.sample(
                free, min(self.rng.choice(REPEAT_CLUSTER_SIZES) - 1, len(free))
            )
            for j in follow_ups:
                buyers[j] = buyer
            buyer.is_repeat = bool(follow_ups)
        return [b for b in buyers if b is not None]

    # -- what ------------------------------------------------------------------------------

    def units(self, show: Showcase | None) -> list[str]:
        def pick() -> str:
            if show is not None and self.rng.random() < SHOWCASE_SKU_SHARE:
                return show.seller_sku
            return self.weighted_sku()

        first = pick()
        if self.rng.random() >= self.rates.multi_line:
            return [first]
        count = self.rng.choices((2, 3, 4), weights=(60, 28, 12))[0]
        return [first, *(first if self.rng.random() < 0.5 else pick() for _ in range(count - 1))]

    def line(self, seller_sku: str, *, on_deal: bool) -> LineDraft:
        product, sku, _ = self.catalog[seller_sku]
        price = to_cents(sku.price)
        discount = (price * LIVE_DISCOUNT_PERCENT + 50) // 100 if on_deal else 0
        return LineDraft(
            product.id,
            product.title,
            sku.id,
            sku.seller_sku,
            sku.name,
            price,
            seller_discount=discount,
        )

    def with_coupon(self, lines: list[LineDraft]) -> list[LineDraft]:
        """One order in ten uses a TikTok coupon ($2-$5, platform-funded) on its first line."""
        if self.rng.random() >= 0.10:
            return lines
        first = lines[0]
        room = first.original_price - first.seller_discount - 1
        coupon = min(self.rng.randrange(2, 6) * 100, room)
        if coupon <= 0:
            return lines
        return [dataclasses.replace(first, platform_discount=coupon), *lines[1:]]

    def draft(
        self,
        order_id: str,
        buyer: _Buyer,
        seller_skus: list[str],
        created: int,
        show: Showcase | None,
    ) -> OrderDraft:
        ids = self.store.ids
        deal_sku = show.seller_sku if show is not None else None
        lines = self.with_coupon([self.line(s, on_deal=s == deal_sku) for s in seller_skus])
        tiktok = self.rng.random() < self.spec.tiktok_shipping_rate
        return OrderDraft(
            order_id=order_id,
            shop_id=self.shop.id,
            warehouse_id=self.shop.default_warehouse_id,
            buyer=buyer.buyer,
            lines=lines,
            line_ids=[ids.new("line_item") for _ in lines],
            package_id=ids.new("package"),
            create_time=created,
            paid_time=created + self.rng.randrange(5, 45),
            shipping_type="TIKTOK" if tiktok else "SELLER",
            auto_combine_group_id=buyer.combine_group_id,
            buyer_message=self.rng.choice(BUYER_MESSAGES) if self.rng.random() < 0.03 else "",
            payment_method_name=self.rng.choice(PAYMENT_METHODS),
        )

    def history(
        self, buyer: _Buyer
    ) -> tuple[list[tuple[dict[str, Any], Recipient]], list[dict[str, Any]]]:
        """1-3 past delivered orders, the first one returned, all well before the stream."""
        orders, returns = [], []
        ids, start = self.store.ids, self.start.timestamp()
        for number in range(self.rng.randint(1, 3)):
            created = int(start - self.rng.uniform(40, 180) * DAY)
            skus = [self.weighted_sku() for _ in range(self.rng.randint(1, 2))]
            draft = self.draft(ids.new("order"), buyer, skus, created, None)
            shipped = draft.paid_time + self.rng.randint(1, 2) * DAY
            delivered = shipped + self.rng.randint(2, 6) * DAY
            data = build_delivered_order(draft, shipped_at=shipped, delivered_at=delivered)
            orders.append((data, buyer.buyer.recipient))
            if number == 0 or self.rng.random() < 0.5:
                opened = delivered + self.rng.randint(2, 7) * DAY
                returns.append(
                    build_return(
                        return_id=ids.new("return"),
                        order=data,
                        created_at=opened,
                        completed_at=opened + self.rng.randint(5, 12) * DAY,
                        reason=self.rng.choice(RETURN_REASONS),
                    )
                )
        return orders, returns


def plan_live_stream(store: SandboxStore, spec: StreamSpec, *, now: datetime) -> StreamPlan:
    start = spec.start or now
    if start.tzinfo is None:
        raise ValueError("StreamSpec.start must be an aware datetime")
    start = start.astimezone(UTC)
    planner = _Planner(store, spec, start)
    shows = planner.showcases()
    arrivals = planner.arrivals(spec.order_count, shows)
    buyers = planner.assign_buyers([t for t, _ in arrivals])
    plan = StreamPlan(spec, planner.shop.id, start, start + spec.duration, [], shows)
    remorse = int(store.remorse_window.total_seconds())
    with_history: set[str] = set()
    for (offset, show_index), buyer in zip(arrivals, buyers, strict=True):
        show = shows[show_index] if show_index is not None else None
        created = int(start.timestamp() + offset)
        skus = planner.units(show)
        draft = planner.draft(store.ids.new("order"), buyer, skus, created, show)
        anomalies: set[str] = set()
        if buyer.kind in BROKEN_KINDS:
            anomalies |= {Anomaly.BROKEN_ADDRESS, buyer.kind.value}
        elif buyer.kind is AddressKind.PO_BOX:
            anomalies.add(Anomaly.PO_BOX)
        elif buyer.kind is AddressKind.REMOTE:
            anomalies.add(Anomaly.REMOTE_DESTINATION)
        elif buyer.kind is AddressKind.MILITARY:
            anomalies |= {Anomaly.REMOTE_DESTINATION, Anomaly.MILITARY_ADDRESS}
        if buyer.is_repeat:
            anomalies.add(Anomaly.REPEAT_BUYER)
        if buyer.has_return_history:
            anomalies.add(Anomaly.RETURN_HISTORY)
            if buyer.buyer.user_id not in with_history:
                with_history.add(buyer.buyer.user_id)
                past_orders, past_returns = planner.history(buyer)
                plan.history_orders.extend(past_orders)
                plan.history_returns.extend(past_returns)
        if len(skus) > 1:
            anomalies.add(Anomaly.MULTI_LINE)
        cancel_at = None
        if planner.rng.random() < spec.anomalies.cancellation:
            anomalies.add(Anomaly.CANCELLED_IN_REMORSE)
            draft.cancel_time = draft.paid_time + planner.rng.randrange(60, remorse - 60)
            draft.cancel_reason = planner.rng.choice(BUYER_CANCEL_REASONS)
            cancel_at = datetime.fromtimestamp(draft.cancel_time, UTC)
        plan.orders.append(
            PlannedOrder(
                order_id=draft.order_id,
                arrival=datetime.fromtimestamp(created, UTC),
                offset=timedelta(seconds=offset),
                buyer_user_id=buyer.buyer.user_id,
                seller_skus=tuple(skus),
                anomalies=frozenset(str(a) for a in anomalies),
                address_kind=buyer.kind,
                cancel_at=cancel_at,
                showcase=show_index,
                draft=draft,
            )
        )
    return plan
