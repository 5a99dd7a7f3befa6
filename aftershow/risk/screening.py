"""The screening engine: run the active rules over orders and record what they find.

Called through :func:`aftershow.risk.services.orders_screen` (and by release and the review
actions). Orders are screened in batches of :data:`BATCH_SIZE`, each batch in one transaction
with its order rows locked, so a batch costs the same dozen queries whatever its size and two
screenings of the same order cannot interleave.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from aftershow.accounts.models import User
from aftershow.orders.models import ChangeSource, Order, OrderState
from aftershow.risk.addresses import AddressLines
from aftershow.risk.evaluators import (
    EVALUATORS,
    Evaluator,
    Parameters,
    ScreenedOrder,
    ScreeningBatch,
)
from aftershow.risk.findings import Finding, reason_text
from aftershow.risk.models import FlagStatus, RiskFlag, RiskRule, RuleKind
from aftershow.risk.rows import StateChange, releases_mark_screened, status_changes_insert

BATCH_SIZE = 500
SCREENED_STATES = (OrderState.READY, OrderState.IN_REVIEW)
REASON_MAX_LENGTH = 500

# What the evaluators read of an order, as plain values (``ScreenedOrder``, then the address's
# ``AddressLines``, in this order): model instances of order, buyer and address cost more than
# the rules.
SCREENED_FIELDS = (
    "id",
    "remote_order_id",
    "state",
    "buyer_id",
    "buyer__nickname",
    "buyer_ip",
    "placed_at",
    "total_amount",
    "currency",
    "shipping_address_id",
    "shipping_address__line1",
    "shipping_address__line2",
    "shipping_address__city",
    "shipping_address__state",
    "shipping_address__postal_code",
    "shipping_address__country",
    "shipping_address__match_key",
)
ADDRESS_START = SCREENED_FIELDS.index("shipping_address__line1")

T = TypeVar("T")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class ScreenReport:
    screened: int = 0
    to_review: int = 0  # moved from READY to IN_REVIEW
    to_ready: int = 0  # moved from IN_REVIEW to READY (their flags no longer apply)
    in_review: int = 0  # screened orders left in review, moved or not
    rules: int = 0  # active rules applied (none: nothing can be flagged)
    flags_by_kind: Counter[str] = field(default_factory=Counter)

    def __iadd__(self, other: ScreenReport) -> ScreenReport:
        self.screened += other.screened
        self.to_review += other.to_review
        self.to_ready += other.to_ready
        self.in_review += other.in_review
        self.rules = max(self.rules, other.rules)
        self.flags_by_kind += other.flags_by_kind
        return self


@dataclass(frozen=True)
class _ActiveRule:
    rule: RiskRule
    evaluator: Evaluator[Any]
    parameters: Parameters


def _active_rules() -> list[_ActiveRule]:
    """Stored parameters were validated when written; a row that no longer validates is a
    configuration error and stops the screening loudly rather than skipping a rule."""
    return [
        _ActiveRule(
            rule,
            EVALUATORS[rule.kind],
            EVALUATORS[rule.kind].parameters.model_validate(rule.parameters),
        )
        for rule in RiskRule.objects.filter(is_active=True).order_by("position", "id")
        if rule.kind in EVALUATORS
    ]


def _kind_labels(kinds: Iterable[str]) -> str:
    return ", ".join(str(RuleKind(kind).label) for kind in kinds)


def screen_orders(
    *,
    order_ids: Sequence[int],
    now: datetime,
    actor: User | None,
    source: ChangeSource,
) -> ScreenReport:
    """Screen READY and IN_REVIEW orders among ``order_ids`` (others are skipped): flagged
    ones go to IN_REVIEW, the rest to READY; every move is a history row."""
    rules = _active_rules()
    report = ScreenReport(rules=len(rules))
    # Reasons and history rows are stored in the site's language, whoever screens.
    with translation.override(settings.LANGUAGE_CODE):
        for chunk in chunked(sorted(set(order_ids)), BATCH_SIZE):
            with transaction.atomic():
                report += _screen_batch(chunk, rules=rules, now=now, actor=actor, source=source)
    return report


def _screened_order(row: tuple[Any, ...]) -> ScreenedOrder:
    pk, number, state, buyer_id, nickname, buyer_ip, placed_at, total, currency, address_id = row[
        :ADDRESS_START
    ]
    return ScreenedOrder(
        pk=pk,
        remote_order_id=number,
        state=state,
        buyer_id=buyer_id,
        buyer_nickname=nickname,
        buyer_ip=buyer_ip,
        placed_at=placed_at,
        total_amount=total,
        currency=currency,
        shipping_address_id=address_id,
        shipping_address=AddressLines(*row[ADDRESS_START:]) if address_id is not None else None,
    )


def _locked_orders(order_ids: Sequence[int]) -> list[ScreenedOrder]:
    """The batch's screenable orders, locked in primary-key order (without joins: PostgreSQL
    refuses ``FOR UPDATE`` on the nullable side of an outer join), then read as values."""
    locked = list(
        Order.objects.select_for_update()
        .filter(pk__in=order_ids, state__in=SCREENED_STATES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not locked:
        return []
    rows = Order.objects.filter(pk__in=locked).order_by("pk").values_list(*SCREENED_FIELDS)
    return [_screened_order(row) for row in rows]


def _screen_batch(
    order_ids: Sequence[int],
    *,
    rules: list[_ActiveRule],
    now: datetime,
    actor: User | None,
    source: ChangeSource,
) -> ScreenReport:
    orders = _locked_orders(order_ids)
    report = ScreenReport(screened=len(orders))
    if not orders:
        return report
    batch = ScreeningBatch(orders)
    existing: dict[int, dict[int, RiskFlag]] = defaultdict(dict)
    for stored in RiskFlag.objects.filter(order_id__in=[order.pk for order in orders]):
        existing[stored.order_id][stored.rule_id] = stored
    to_create: list[RiskFlag] = []
    to_update: list[RiskFlag] = []
    to_clear: list[int] = []
    moves: dict[str, list[tuple[ScreenedOrder, list[str]]]] = {
        str(OrderState.IN_REVIEW): [],
        str(OrderState.READY): [],
    }
    for order in orders:
        open_kinds: list[str] = []
        hit_rules: set[int] = set()
        for active in rules:
            findings: list[Finding] = active.evaluator.evaluate(order, active.parameters, batch)
            if not findings:
                continue
            hit_rules.add(active.rule.pk)
            report.flags_by_kind[active.rule.kind] += 1
            reason = reason_text(findings)[:REASON_MAX_LENGTH]
            data = [finding.as_json() for finding in findings]
            flag = existing[order.pk].get(active.rule.pk)
            if flag is None:
                to_create.append(
                    RiskFlag(
                        order_id=order.pk,
                        rule=active.rule,
                        kind=active.rule.kind,
                        reason=reason,
                        findings=data,
                    )
                )
                open_kinds.append(active.rule.kind)
            elif flag.status == FlagStatus.APPROVED:
                # A reviewer has seen this rule's concern on this order and let it go.
                continue
            else:
                if (flag.status, flag.reason, flag.findings) != (FlagStatus.OPEN, reason, data):
                    flag.status, flag.reason, flag.findings = FlagStatus.OPEN, reason, data
                    flag.resolved_at = flag.resolved_by = None
                    to_update.append(flag)
                open_kinds.append(active.rule.kind)
        had_open = False
        for rule_id, stored in existing[order.pk].items():
            if stored.status != FlagStatus.OPEN:
                continue
            had_open = True
            if rule_id not in hit_rules:
                to_clear.append(stored.pk)
        # Screening only takes back what screening flagged: an order a person sent to review
        # (a reviewer's hold that ended) waits there for a person.
        target: str = OrderState.READY
        if open_kinds or (order.state == OrderState.IN_REVIEW and not had_open):
            target = OrderState.IN_REVIEW
        if target == OrderState.IN_REVIEW:
            report.in_review += 1
        if order.state != target:
            moves[target].append((order, open_kinds))

    RiskFlag.objects.bulk_create(to_create)
    for flag in to_update:
        RiskFlag.objects.filter(pk=flag.pk).update(
            status=flag.status,
            reason=flag.reason,
            findings=flag.findings,
            resolved_at=None,
            resolved_by=None,
            updated_at=now,
        )
    if to_clear:
        RiskFlag.objects.filter(pk__in=to_clear, status=FlagStatus.OPEN).update(
            status=FlagStatus.CLEARED, resolved_at=now, resolved_by=actor, updated_at=now
        )
    history: list[StateChange] = []
    for target, moved in moves.items():
        if not moved:
            continue
        previous: str = OrderState.READY if target == OrderState.IN_REVIEW else OrderState.IN_REVIEW
        updated = Order.objects.filter(pk__in=[order.pk for order, _ in moved], state=previous)
        updated.update(state=target, updated_at=now)
        for order, kinds in moved:
            if kinds:
                reason = gettext("Flagged by screening: %(rules)s") % {"rules": _kind_labels(kinds)}
            else:
                reason = gettext("Screening: no open flags")
            history.append((order.pk, order.state, target, reason[:255]))
    report.to_review = len(moves[OrderState.IN_REVIEW])
    report.to_ready = len(moves[OrderState.READY])
    status_changes_insert(
        changes=history, source=source, actor_id=actor.pk if actor else None, at=timezone.now()
    )
    releases_mark_screened(order_ids=[order.pk for order in orders], at=now)
    return report
