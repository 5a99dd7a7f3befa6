"""Platform-paid commission against what TikTok actually paid.

TikTok reports its paid commission per order and SKU: through the affiliate orders API
(``creators.AffiliateOrderSku.actual_paid_commission``, reference §1.11) or the Affiliate
Center export (``imports.AffiliateOrderRow.actual_commission``); the API wins when both have
the SKU. Our platform rows are per unit (TikTok's order lines are), so a SKU's reported amount
is spread over its rows in proportion to their amounts, the last row taking the rounding cent.
Finance statement transactions (``imports.StatementTransaction.affiliate_commission``, a
negative cost per order) are shown next to each order as a second witness.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from aftershow.commissions.models import ZERO, CommissionLine, LineKind, LineStatus, Payer
from aftershow.core.money import CENT
from aftershow.core.timeutils import utcnow

Key = tuple[int, str, str]  # shop id, remote order id, remote SKU id


def _reported_amounts(keys: set[Key]) -> dict[Key, Decimal]:
    from aftershow.creators.models import AffiliateOrderSku
    from aftershow.imports.models import AffiliateOrderRow

    order_ids = {order_id for _, order_id, _ in keys}
    reported: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    from_file = AffiliateOrderRow.objects.filter(
        remote_order_id__in=order_ids, commission_paid_time__isnull=False
    ).values_list("shop_id", "remote_order_id", "remote_sku_id", "actual_commission")
    for shop_id, order_id, sku_id, amount in from_file:
        reported[(shop_id, order_id, sku_id)] += amount
    from_api: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    api_rows = AffiliateOrderSku.objects.filter(
        remote_order_id__in=order_ids, actual_paid_commission__isnull=False
    ).values_list("shop_id", "remote_order_id", "remote_sku_id", "actual_paid_commission")
    for shop_id, order_id, sku_id, paid in api_rows:
        from_api[(shop_id, order_id, sku_id)] += paid or ZERO
    reported.update(from_api)
    return {key: value for key, value in reported.items() if key in keys}


@dataclass(frozen=True)
class ReconcileResult:
    matched: int
    different: int
    unreported: int


def platform_commission_reconcile(*, now: datetime | None = None) -> ReconcileResult:
    """Write ``platform_reported_amount`` on every platform row TikTok has reported."""
    now = now or utcnow()
    rows = list(
        CommissionLine.objects.filter(payer=Payer.PLATFORM, kind=LineKind.COMMISSION)
        .exclude(order__isnull=True)
        .values_list(
            "pk", "order__shop_id", "order__remote_order_id", "order_line__remote_sku_id",
            "amount", "status", "platform_reported_amount",
        )
        .order_by("pk")
    )  # fmt: skip
    groups: dict[Key, list[tuple[int, Decimal, str]]] = defaultdict(list)
    for pk, shop_id, order_id, sku_id, amount, status, _reported in rows:
        groups[(shop_id, order_id, sku_id or "")].append((pk, amount, status))
    reported = _reported_amounts(set(groups))
    matched = different = unreported = 0
    for key, members in groups.items():
        if key not in reported:
            unreported += 1
            continue
        total_reported = reported[key]
        # Returned or cancelled rows expect nothing (TikTok reverses its commission): the
        # reported figure is spread over the live rows, or put on the first row if none is live.
        live = [m for m in members if m[2] != LineStatus.VOID]
        ours = sum((amount for _, amount, _ in live), ZERO)
        takers = live or members[:1]
        shares = {pk: ZERO for pk, _, _ in members}
        remaining = total_reported
        for index, (pk, amount, _status) in enumerate(takers):
            if index == len(takers) - 1:
                share = remaining
            else:
                share = (total_reported * amount / ours).quantize(CENT) if ours else ZERO
            shares[pk] = share
            remaining -= share
        for pk, share in shares.items():
            CommissionLine.objects.filter(pk=pk).update(
                platform_reported_amount=share, reconciled_at=now
            )
        if total_reported == ours:
            matched += 1
        else:
            different += 1
    return ReconcileResult(matched=matched, different=different, unreported=unreported)


@dataclass(frozen=True)
class Difference:
    remote_order_id: str
    remote_sku_id: str
    creator_handle: str
    ours: Decimal
    reported: Decimal | None
    statement_transactions: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        return None if self.reported is None else self.reported - self.ours


def reconciliation_differences(*, limit: int = 500) -> list[Difference]:
    """Orders and SKUs where TikTok paid another amount than the ledger expects."""
    from aftershow.imports.models import StatementTransaction

    rows = (
        CommissionLine.objects.filter(
            payer=Payer.PLATFORM, kind=LineKind.COMMISSION, reconciled_at__isnull=False
        )
        .values("order__remote_order_id", "order_line__remote_sku_id", "creator__handle")
        .annotate(
            ours=Coalesce(Sum("amount", filter=~Q(status=LineStatus.VOID)), ZERO),
            reported=Sum("platform_reported_amount"),
        )
        .order_by("order__remote_order_id")
    )
    found = [row for row in rows if row["reported"] is not None and row["reported"] != row["ours"]][
        :limit
    ]
    order_ids = {row["order__remote_order_id"] for row in found}
    witness = dict(
        StatementTransaction.objects.filter(order_or_adjustment_id__in=order_ids)
        .values("order_or_adjustment_id")
        .annotate(total=Sum("affiliate_commission"))
        .values_list("order_or_adjustment_id", "total")
    )
    return [
        Difference(
            remote_order_id=row["order__remote_order_id"],
            remote_sku_id=row["order_line__remote_sku_id"] or "",
            creator_handle=row["creator__handle"],
            ours=row["ours"],
            reported=row["reported"],
            # TikTok books commission as a cost (negative); shown as the amount paid.
            statement_transactions=-witness[row["order__remote_order_id"]]
            if row["order__remote_order_id"] in witness
            else None,
        )
        for row in found
    ]
