"""The fixed set of evaluators behind rule kinds, and the parameters the seller sets for each.

An evaluator looks at one order, with what it needs about the whole batch preloaded in a
:class:`ScreeningBatch` (a handful of queries per batch, whatever its size), and returns its
findings; no finding means the rule passes. Evaluators never write and never raise on odd data.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, Generic, TypeVar

from django.db.models import Count, Q, QuerySet, Sum
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aftershow.orders.models import Order, OrderLine, PlatformStatus
from aftershow.risk.addresses import (
    MILITARY_STATES,
    REMOTE_STATES,
    AddressLines,
    AddressReport,
    analyse_address,
)
from aftershow.risk.findings import Finding
from aftershow.risk.models import OrderReturn, RuleKind

# Past orders that reached the buyer: the denominator of a return rate.
DELIVERED_STATUSES = (PlatformStatus.DELIVERED, PlatformStatus.COMPLETED)
MAX_LISTED_ORDERS = 5


class Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AddressParameters(Parameters):
    require_street_number: bool = True
    check_zip_state: bool = True


class ReturnRateParameters(Parameters):
    max_return_rate_percent: Decimal = Field(Decimal("15"), ge=0, le=100, decimal_places=2)
    min_orders: int = Field(2, ge=1, le=1000)


class VelocityParameters(Parameters):
    order_count: int = Field(3, ge=2, le=1000)
    window_minutes: int = Field(30, ge=1, le=7 * 24 * 60)


def _codes(values: list[str]) -> list[str]:
    cleaned = [value.strip().upper() for value in values if value.strip()]
    for value in cleaned:
        if len(value) != 2 or not value.isalpha():
            raise ValueError(f"{value!r} is not a two-letter state code")
    return sorted(set(cleaned))


class RemoteParameters(Parameters):
    states: list[str] = Field(default_factory=lambda: sorted({*REMOTE_STATES, *MILITARY_STATES}))

    @field_validator("states")
    @classmethod
    def _upper_codes(cls, value: list[str]) -> list[str]:
        return _codes(value)


class PoBoxParameters(Parameters):
    # Carriers that need a street address; USPS delivers to PO Boxes.
    carriers_refusing_po_box: list[str] = Field(default_factory=lambda: ["UPS", "FedEx"])

    @field_validator("carriers_refusing_po_box")
    @classmethod
    def _strip(cls, value: list[str]) -> list[str]:
        return [carrier.strip() for carrier in value if carrier.strip()]


class HighValueParameters(Parameters):
    max_total: Decimal = Field(Decimal("500.00"), ge=0, max_digits=14, decimal_places=2)
    max_units: int = Field(10, ge=1, le=100_000)

    @field_validator("max_total")
    @classmethod
    def _cents(cls, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class ScreenedOrder:
    """What the evaluators read of an order, its buyer and its address (screening reads these
    as plain values: model instances of the three cost more than the rules)."""

    pk: int
    remote_order_id: str
    state: str
    buyer_id: int | None
    buyer_nickname: str | None
    buyer_ip: str | None
    placed_at: datetime
    total_amount: Decimal
    currency: str
    shipping_address_id: int | None
    shipping_address: AddressLines | None

    @property
    def address_match_key(self) -> str:
        return self.shipping_address.match_key if self.shipping_address is not None else ""


@dataclass(frozen=True)
class _Placed:
    order_id: int
    remote_order_id: str
    placed_at: datetime


def _hit_windows(placed: list[_Placed], count: int, window: timedelta) -> dict[int, list[_Placed]]:
    """Orders that fall in some window of ``window`` length holding ``count`` orders or more,
    each with the earliest such window (``placed`` sorted by time)."""
    times = [item.placed_at for item in placed]
    hits: dict[int, list[_Placed]] = {}
    for start, first in enumerate(placed):
        end = bisect_right(times, first.placed_at + window)
        if end - start >= count:
            members = placed[start:end]
            for member in members:
                hits.setdefault(member.order_id, members)
    return hits


class ScreeningBatch:
    """The orders screened together and what the evaluators need to know about them."""

    def __init__(self, orders: Sequence[ScreenedOrder]) -> None:
        self.orders = list(orders)
        self.order_ids = [order.pk for order in self.orders]
        self._addresses: dict[int | None, AddressReport] = {}
        self._velocity_groups: dict[timedelta, dict[tuple[str, object], list[_Placed]]] = {}
        self._velocity_hits: dict[tuple[int, timedelta], dict[tuple[str, int], list[_Placed]]] = {}

    def address(self, order: ScreenedOrder) -> AddressReport:
        key = order.shipping_address_id
        if key not in self._addresses:
            self._addresses[key] = analyse_address(order.shipping_address)
        return self._addresses[key]

    @cached_property
    def units(self) -> dict[int, int]:
        rows = (
            OrderLine.objects.filter(order_id__in=self.order_ids)
            .values("order_id")
            .annotate(units=Sum("quantity"))
            .values_list("order_id", "units")
        )
        return dict(rows)

    @cached_property
    def carriers(self) -> dict[int, str]:
        """The carrier already chosen for an order's parcel, when there is one."""
        rows = (
            OrderLine.objects.filter(order_id__in=self.order_ids, package__isnull=False)
            .exclude(package__carrier="")
            .values_list("order_id", "package__carrier")
        )
        return dict(rows)

    @cached_property
    def return_stats(self) -> dict[int, tuple[int, int]]:
        """Per buyer: (orders returned, orders delivered or returned), from aftershow's history."""
        buyer_ids = {order.buyer_id for order in self.orders if order.buyer_id}
        if not buyer_ids:
            return {}
        returned = dict(
            OrderReturn.objects.filter(order__buyer_id__in=buyer_ids)
            .values("order__buyer_id")
            .annotate(orders=Count("order_id", distinct=True))
            .values_list("order__buyer_id", "orders")
        )
        reached = dict(
            Order.objects.filter(buyer_id__in=buyer_ids)
            .filter(Q(platform_status__in=DELIVERED_STATUSES) | Q(returns__isnull=False))
            .values("buyer_id")
            .annotate(orders=Count("id", distinct=True))
            .values_list("buyer_id", "orders")
        )
        return {buyer: (returned.get(buyer, 0), total) for buyer, total in reached.items()}

    def velocity_hits(self, count: int, window: timedelta) -> dict[tuple[str, int], list[_Placed]]:
        """(group kind, order id) → the orders of the first window it is caught in. Groups:
        the buyer's IP ("ip"), the buyer ("buyer") and the address match key ("address")."""
        if (count, window) not in self._velocity_hits:
            if window not in self._velocity_groups:
                self._velocity_groups[window] = self._load_velocity(window)
            hits: dict[tuple[str, int], list[_Placed]] = {}
            for (kind, _), placed in self._velocity_groups[window].items():
                for order_id, members in _hit_windows(placed, count, window).items():
                    hits.setdefault((kind, order_id), members)
            self._velocity_hits[(count, window)] = hits
        return self._velocity_hits[(count, window)]

    def _load_velocity(self, window: timedelta) -> dict[tuple[str, object], list[_Placed]]:
        groups: dict[tuple[str, object], list[_Placed]] = defaultdict(list)
        if not self.orders:
            return groups
        low = min(order.placed_at for order in self.orders) - window
        high = max(order.placed_at for order in self.orders) + window
        without_ip = [order for order in self.orders if not order.buyer_ip]
        ips = {order.buyer_ip for order in self.orders if order.buyer_ip}
        buyers = {order.buyer_id for order in without_ip if order.buyer_id}
        match_keys = {order.address_match_key for order in without_ip if order.address_match_key}
        in_window = Order.objects.filter(placed_at__gte=low, placed_at__lte=high)
        queries: list[tuple[str, str, QuerySet[Order]]] = []
        if ips:
            queries.append(("ip", "buyer_ip", in_window.filter(buyer_ip__in=ips)))
        if buyers:
            queries.append(("buyer", "buyer_id", in_window.filter(buyer_id__in=buyers)))
        if match_keys:
            queries.append(
                (
                    "address",
                    "shipping_address__match_key",
                    in_window.filter(shipping_address__match_key__in=match_keys),
                )
            )
        for kind, field, query in queries:
            rows = query.order_by("placed_at", "pk").values_list(
                field, "pk", "remote_order_id", "placed_at"
            )
            for key, order_id, remote_order_id, placed_at in rows:
                groups[(kind, key)].append(_Placed(order_id, remote_order_id, placed_at))
        return groups


P = TypeVar("P", bound=Parameters)


@dataclass(frozen=True)
class Evaluator(Generic[P]):
    parameters: type[P]
    evaluate: Callable[[ScreenedOrder, P, ScreeningBatch], list[Finding]]


def evaluate_address(
    order: ScreenedOrder, params: AddressParameters, batch: ScreeningBatch
) -> list[Finding]:
    problems = list(batch.address(order).problems)
    if not params.require_street_number:
        problems = [p for p in problems if p.code != "street_number_missing"]
    if not params.check_zip_state:
        problems = [p for p in problems if p.code not in ("zip_state_mismatch", "zip_unknown")]
    return problems


def _percent(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):f}"
    return text.removesuffix(".0")


def evaluate_return_rate(
    order: ScreenedOrder, params: ReturnRateParameters, batch: ScreeningBatch
) -> list[Finding]:
    if order.buyer_id is None:
        return []
    returned, reached = batch.return_stats.get(order.buyer_id, (0, 0))
    if reached < params.min_orders or reached == 0:
        return []
    rate = Decimal(returned) * 100 / Decimal(reached)
    if rate <= params.max_return_rate_percent:
        return []
    return [
        Finding(
            "return_rate",
            {
                "returned": str(returned),
                "orders": str(reached),
                "rate": _percent(rate),
                "limit": _percent(params.max_return_rate_percent),
            },
        )
    ]


def _listed(members: list[_Placed]) -> str:
    ids = [member.remote_order_id for member in members[:MAX_LISTED_ORDERS]]
    return ", ".join(ids) + (", …" if len(members) > MAX_LISTED_ORDERS else "")


def evaluate_velocity(
    order: ScreenedOrder, params: VelocityParameters, batch: ScreeningBatch
) -> list[Finding]:
    window = timedelta(minutes=params.window_minutes)
    hits = batch.velocity_hits(params.order_count, window)
    common = {"minutes": str(params.window_minutes)}
    if order.buyer_ip:
        members = hits.get(("ip", order.pk))
        if members is None:
            return []
        values = {**common, "count": str(len(members)), "ip": order.buyer_ip}
        return [Finding("velocity_ip", {**values, "orders": _listed(members)})]
    members = hits.get(("buyer", order.pk))
    if members is not None:
        buyer = order.buyer_nickname or "—"
        values = {**common, "count": str(len(members)), "buyer": buyer}
        return [Finding("velocity_buyer", {**values, "orders": _listed(members)})]
    members = hits.get(("address", order.pk))
    if members is not None:
        values = {**common, "count": str(len(members)), "orders": _listed(members)}
        return [Finding("velocity_address", values)]
    return []


def evaluate_remote(
    order: ScreenedOrder, params: RemoteParameters, batch: ScreeningBatch
) -> list[Finding]:
    state = batch.address(order).state
    if not state or state not in params.states:
        return []
    code = "military_destination" if state in MILITARY_STATES else "remote_destination"
    return [Finding(code, {"state": state})]


def evaluate_po_box(
    order: ScreenedOrder, params: PoBoxParameters, batch: ScreeningBatch
) -> list[Finding]:
    if not params.carriers_refusing_po_box or not batch.address(order).is_po_box:
        return []
    carrier = batch.carriers.get(order.pk, "")
    if not carrier:
        return [Finding("po_box_no_carrier")]
    refusing = {name.casefold() for name in params.carriers_refusing_po_box}
    if carrier.casefold() in refusing:
        return [Finding("po_box_carrier", {"carrier": carrier})]
    return []


def evaluate_high_value(
    order: ScreenedOrder, params: HighValueParameters, batch: ScreeningBatch
) -> list[Finding]:
    findings = []
    if order.total_amount > params.max_total:
        values = {
            "total": f"{order.total_amount:.2f}",
            "currency": order.currency,
            "limit": f"{params.max_total:.2f}",
        }
        findings.append(Finding("high_value", values))
    units = batch.units.get(order.pk, 0)
    if units > params.max_units:
        findings.append(
            Finding("high_units", {"units": str(units), "limit": str(params.max_units)})
        )
    return findings


EVALUATORS: dict[str, Evaluator[Any]] = {
    RuleKind.ADDRESS: Evaluator(AddressParameters, evaluate_address),
    RuleKind.RETURN_RATE: Evaluator(ReturnRateParameters, evaluate_return_rate),
    RuleKind.ORDER_VELOCITY: Evaluator(VelocityParameters, evaluate_velocity),
    RuleKind.REMOTE_DESTINATION: Evaluator(RemoteParameters, evaluate_remote),
    RuleKind.PO_BOX: Evaluator(PoBoxParameters, evaluate_po_box),
    RuleKind.HIGH_VALUE: Evaluator(HighValueParameters, evaluate_high_value),
}


def parse_parameters(kind: str, data: dict[str, Any]) -> Parameters:
    """The kind's parameters from stored or submitted JSON (pydantic.ValidationError if bad)."""
    parameters: Parameters = EVALUATORS[kind].parameters.model_validate(data)
    return parameters


def default_parameters(kind: str) -> dict[str, Any]:
    defaults: Parameters = EVALUATORS[kind].parameters()
    return defaults.model_dump(mode="json")
