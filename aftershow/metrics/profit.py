"""Profit per order and per live session (R-C5): sales - refunds - platform fee - commission
(both payers) - shipping - cost of goods.

Where each amount comes from, in order of preference (docs/decisions-metrics.md):

- platform fee: TikTok's settlement rows for the order (referral fee, its sales tax, transaction
  fee, refund administration fee); before settlement, the policy's assumed percent of sales,
  marked as estimated;
- commission: the commission ledger's rows for the order that are not void, split by payer;
- shipping: the bought label of each parcel (else its quoted rate, marked estimated), shared
  between the orders of a combined parcel by their number of lines;
- cost of goods: units x the SKU's unit cost, for orders that were not returned (the goods came
  back); lines without a SKU are counted and shown, never guessed;
- refunds: a returned order's imported refund amounts, or its whole subtotal when the return is
  known without an amount.

Computed with a handful of grouped queries per page of orders, never one query per order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q, Sum

from aftershow.commissions.models import CommissionLine, LineStatus, Payer
from aftershow.fulfillment.models import LabelPurchase, Package, PurchaseState
from aftershow.imports.models import ReturnRecord, StatementTransaction
from aftershow.metrics.formulas import CENT, HUNDRED
from aftershow.metrics.selectors import WITHDRAWN_RETURN, returned_q
from aftershow.orders.models import Order, OrderLine

ZERO = Decimal("0.00")
# Settlement columns that are the platform's fee on an order (reference §4a, §4e); the fee
# columns without a field of their own are read from ``other_amounts``.
FEE_OTHER_COLUMNS = ("Sales tax on referral fees", "Refund administration fee")


@dataclass
class OrderProfit:
    order: Order
    sales: Decimal = ZERO
    refunds: Decimal = ZERO
    platform_fee: Decimal = ZERO
    platform_fee_estimated: bool = False
    commission_platform: Decimal = ZERO
    commission_seller: Decimal = ZERO
    shipping: Decimal = ZERO
    shipping_estimated: bool = False
    has_label: bool = False
    cost_of_goods: Decimal = ZERO
    lines_without_cost: int = 0
    is_returned: bool = False

    @property
    def commission(self) -> Decimal:
        return self.commission_platform + self.commission_seller

    @property
    def profit(self) -> Decimal:
        return (
            self.sales
            - self.refunds
            - self.platform_fee
            - self.commission
            - self.shipping
            - self.cost_of_goods
        )

    @property
    def margin(self) -> Decimal | None:
        """Profit ÷ sales, or None when nothing was sold."""
        return self.profit / self.sales if self.sales else None


@dataclass
class ProfitTotal:
    orders: int = 0
    sales: Decimal = ZERO
    refunds: Decimal = ZERO
    platform_fee: Decimal = ZERO
    commission_platform: Decimal = ZERO
    commission_seller: Decimal = ZERO
    shipping: Decimal = ZERO
    cost_of_goods: Decimal = ZERO
    estimated_fees: int = 0
    estimated_shipping: int = 0
    without_label: int = 0
    lines_without_cost: int = 0
    rows: list[OrderProfit] = field(default_factory=list)

    @property
    def commission(self) -> Decimal:
        return self.commission_platform + self.commission_seller

    @property
    def profit(self) -> Decimal:
        return (
            self.sales
            - self.refunds
            - self.platform_fee
            - self.commission
            - self.shipping
            - self.cost_of_goods
        )

    @property
    def margin(self) -> Decimal | None:
        return self.profit / self.sales if self.sales else None

    def add(self, row: OrderProfit) -> None:
        self.orders += 1
        self.sales += row.sales
        self.refunds += row.refunds
        self.platform_fee += row.platform_fee
        self.commission_platform += row.commission_platform
        self.commission_seller += row.commission_seller
        self.shipping += row.shipping
        self.cost_of_goods += row.cost_of_goods
        self.estimated_fees += int(row.platform_fee_estimated)
        self.estimated_shipping += int(row.shipping_estimated)
        self.without_label += int(not row.has_label)
        self.lines_without_cost += row.lines_without_cost
        self.rows.append(row)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def orders_profit(*, orders: Sequence[Order], fee_percent: Decimal) -> list[OrderProfit]:
    """The profit of each order given, in the order given."""
    if not orders:
        return []
    by_id = {order.pk: OrderProfit(order=order, sales=order.subtotal) for order in orders}
    ids = list(by_id)

    returned_ids = set(
        Order.objects.filter(pk__in=ids).filter(returned_q()).values_list("pk", flat=True)
    )
    for order_id in returned_ids:
        by_id[order_id].is_returned = True

    for row in (
        OrderLine.objects.filter(order_id__in=ids)
        .values("order_id")
        .order_by()
        .annotate(
            cogs=Sum(F("quantity") * F("sku__cost")),
            without_cost=Count("id", filter=Q(sku__isnull=True)),
        )
    ):
        target = by_id[row["order_id"]]
        target.lines_without_cost = row["without_cost"]
        if not target.is_returned:
            target.cost_of_goods = _cents(row["cogs"] or ZERO)

    _add_refunds(by_id, returned_ids)
    _add_platform_fees(by_id, fee_percent)
    _add_commission(by_id, ids)
    _add_shipping(by_id, ids)
    return [by_id[order.pk] for order in orders]


def _add_refunds(by_id: dict[int, OrderProfit], returned_ids: set[int]) -> None:
    if not returned_ids:
        return
    keys = {(by_id[pk].order.shop_id, by_id[pk].order.remote_order_id): pk for pk in returned_ids}
    refunded: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for record in (
        ReturnRecord.objects.filter(
            remote_order_id__in=[remote for _, remote in keys], quantity__gt=0
        )
        .exclude(return_sub_status__iexact=WITHDRAWN_RETURN)
        .values("shop_id", "remote_order_id", "refund_amount")
    ):
        order_id = keys.get((record["shop_id"], record["remote_order_id"]))
        if order_id is not None:
            refunded[order_id] += record["refund_amount"]
    for order_id in returned_ids:
        target = by_id[order_id]
        amount = refunded.get(order_id, ZERO)
        target.refunds = min(amount, target.sales) if amount > 0 else target.sales


def _add_platform_fees(by_id: dict[int, OrderProfit], fee_percent: Decimal) -> None:
    keys = {(row.order.shop_id, row.order.remote_order_id): pk for pk, row in by_id.items()}
    settled: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for record in StatementTransaction.objects.filter(
        order_or_adjustment_id__in=[remote for _, remote in keys]
    ).values(
        "shop_id", "order_or_adjustment_id", "referral_fee", "transaction_fee", "other_amounts"
    ):
        order_id = keys.get((record["shop_id"], record["order_or_adjustment_id"]))
        if order_id is None:
            continue
        # Costs are negative in TikTok's statements; the fee shown here is positive.
        amount = record["referral_fee"] + record["transaction_fee"]
        for column in FEE_OTHER_COLUMNS:
            amount += Decimal(str(record["other_amounts"].get(column, "0")))
        settled[order_id] += -amount
    for order_id, target in by_id.items():
        if order_id in settled:
            target.platform_fee = settled[order_id]
        else:
            target.platform_fee = _cents(target.sales * fee_percent / HUNDRED)
            target.platform_fee_estimated = True


def _add_commission(by_id: dict[int, OrderProfit], ids: list[int]) -> None:
    for row in (
        CommissionLine.objects.filter(order_id__in=ids)
        .exclude(status=LineStatus.VOID)
        .values("order_id", "payer")
        .order_by()
        .annotate(amount=Sum("amount"))
    ):
        target = by_id[row["order_id"]]
        if row["payer"] == Payer.PLATFORM:
            target.commission_platform = row["amount"]
        else:
            target.commission_seller += row["amount"]


def _add_shipping(by_id: dict[int, OrderProfit], ids: list[int]) -> None:
    # Lines per (package, order): a combined parcel's label is shared by line count.
    per_package: dict[int, dict[int, int]] = defaultdict(dict)
    for row in (
        OrderLine.objects.filter(package__lines__order_id__in=ids)
        .values("package_id", "order_id")
        .order_by()
        .annotate(n=Count("id", distinct=True))
    ):
        per_package[row["package_id"]][row["order_id"]] = row["n"]
    if not per_package:
        return
    bought = dict(
        LabelPurchase.objects.filter(
            package_id__in=per_package, state=PurchaseState.BOUGHT, amount__isnull=False
        ).values_list("package_id", "amount")
    )
    quoted = dict(
        Package.objects.filter(pk__in=per_package, quoted_amount__isnull=False).values_list(
            "pk", "quoted_amount"
        )
    )
    for package_id, orders in per_package.items():
        cost = bought.get(package_id)
        estimated = cost is None
        if cost is None:
            cost = quoted.get(package_id)
        if cost is None:
            continue
        shares = _split(cost, [orders[order_id] for order_id in sorted(orders)])
        for order_id, share in zip(sorted(orders), shares, strict=True):
            target = by_id.get(order_id)
            if target is None:
                continue
            target.shipping += share
            target.has_label = target.has_label or not estimated
            target.shipping_estimated = target.shipping_estimated or estimated


def _split(amount: Decimal, weights: list[int]) -> list[Decimal]:
    """``amount`` shared by ``weights`` to the cent, the remainder on the first share."""
    total = sum(weights)
    shares = [_cents(amount * weight / total) for weight in weights]
    shares[0] += amount - sum(shares)
    return shares


def total_profit(rows: Sequence[OrderProfit]) -> ProfitTotal:
    total = ProfitTotal()
    for row in rows:
        total.add(row)
    return total
