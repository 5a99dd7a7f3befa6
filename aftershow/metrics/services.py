"""Writes: new versions of the tier policy, and the recompute of every creator's standing with a
tier-change row for each creator whose tier moved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from aftershow.accounts.models import Role, User
from aftershow.core.timeutils import utcnow
from aftershow.creators.models import Creator
from aftershow.metrics.formulas import (
    ZERO_FIGURES,
    Figures,
    is_phase_out,
    is_return_warning,
    rounded,
    tier_for,
)
from aftershow.metrics.models import (
    SEED_A_FROM,
    SEED_PHASE_OUT_BELOW,
    SEED_PLATFORM_FEE_PERCENT,
    SEED_RETURN_WARNING_PERCENT,
    SEED_S_ABOVE,
    CreatorStanding,
    MetricsRun,
    RecomputeTrigger,
    Tier,
    TierChange,
    TierChangeReason,
    TierPolicy,
)
from aftershow.metrics.selectors import REPORT_CURRENCY, Period, figures_by_creator, policy_in_force

# The seed's thresholds apply from the beginning of time until someone changes them.
SEED_POLICY_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
RATIO_LIMIT = Decimal("1000000")


class PolicyError(ValueError):
    """A tier policy that cannot be saved; the message says why, for the person who typed it."""


def can_view_metrics(user: User | None) -> bool:
    """Creator managers, finance and the owner see figures and profit."""
    return user is not None and user.has_role(Role.CREATOR_MANAGER, Role.FINANCE)


def can_change_policy(user: User | None) -> bool:
    """Only the owner changes the thresholds; creator managers may recompute."""
    return user is not None and user.has_role()


def tier_policy_seed() -> TierPolicy:
    """Version 1, the seed's thresholds, written the first time a policy is needed."""
    policy, _created = TierPolicy.objects.get_or_create(
        version=1,
        defaults={
            "effective_from": SEED_POLICY_EFFECTIVE_FROM,
            "s_above": SEED_S_ABOVE,
            "a_from": SEED_A_FROM,
            "phase_out_below": SEED_PHASE_OUT_BELOW,
            "return_warning_percent": SEED_RETURN_WARNING_PERCENT,
            "platform_fee_percent": SEED_PLATFORM_FEE_PERCENT,
            "window_days": None,
            "reason": "The seed's thresholds (S > 5, A 2-5, B < 2; phase out < 1.5; 8 % returns)",
        },
    )
    return policy


def tier_policy_current(*, at: datetime) -> TierPolicy:
    return policy_in_force(at=at) or tier_policy_seed()


def _decimal(value: object, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise PolicyError(_("%(field)s is not a number.") % {"field": label}) from error
    if not number.is_finite():
        raise PolicyError(_("%(field)s is not a number.") % {"field": label})
    return number


def tier_policy_create(
    *,
    s_above: object,
    a_from: object,
    phase_out_below: object,
    return_warning_percent: object,
    platform_fee_percent: object,
    window_days: int | None,
    effective_from: datetime,
    reason: str,
    by: User | None,
) -> TierPolicy:
    """A new version of the thresholds. Refused, with nothing saved, when a number is out of
    range or the reason is missing."""
    s_value = _decimal(s_above, _("The S threshold"))
    a_value = _decimal(a_from, _("The A threshold"))
    phase_out = _decimal(phase_out_below, _("The phase-out threshold"))
    warning = _decimal(return_warning_percent, _("The return-rate warning"))
    fee = _decimal(platform_fee_percent, _("The platform fee"))
    if effective_from.tzinfo is None:
        raise PolicyError(_("The effective date needs a time zone."))
    if not reason.strip():
        raise PolicyError(_("Say why the thresholds change."))
    if a_value < 0 or phase_out < 0:
        raise PolicyError(_("ROI thresholds cannot be negative."))
    if s_value <= a_value:
        raise PolicyError(_("The S threshold must be above the A threshold."))
    if max(s_value, a_value, phase_out) >= RATIO_LIMIT:
        raise PolicyError(_("A threshold must be below 1,000,000."))
    for value, label in ((warning, _("The return-rate warning")), (fee, _("The platform fee"))):
        if not Decimal("0") <= value <= Decimal("100"):
            raise PolicyError(_("%(field)s must be between 0 and 100 %%.") % {"field": label})
    if window_days is not None and window_days < 1:
        raise PolicyError(_("The window must be at least one day, or empty for all history."))
    if window_days is not None and window_days > 36500:
        raise PolicyError(_("The window must be at most 36,500 days."))
    tier_policy_seed()
    try:
        with transaction.atomic():
            latest = TierPolicy.objects.aggregate(latest=Max("version"))["latest"] or 0
            return TierPolicy.objects.create(
                version=latest + 1,
                effective_from=effective_from,
                s_above=s_value.quantize(Decimal("0.01")),
                a_from=a_value.quantize(Decimal("0.01")),
                phase_out_below=phase_out.quantize(Decimal("0.01")),
                return_warning_percent=warning.quantize(Decimal("0.01")),
                platform_fee_percent=fee.quantize(Decimal("0.01")),
                window_days=window_days,
                reason=reason.strip()[:255],
                created_by=by,
            )
    except IntegrityError as error:
        # Two changes saved at the same moment both took the next version number.
        raise PolicyError(
            _("Someone else changed the thresholds at the same time; reload and try again.")
        ) from error


def _explain(tier: Tier, roi: Decimal | None, policy: TierPolicy) -> str:
    shown = f"{rounded(roi)}" if roi is not None else "n/a"
    if tier == Tier.S:
        text = f"ROI {shown} above {policy.s_above}"
    elif tier == Tier.A:
        text = f"ROI {shown} from {policy.a_from} to {policy.s_above}"
    elif tier == Tier.B:
        text = f"ROI {shown} below {policy.a_from}"
    else:
        text = "nothing invested, ROI n/a"
    return f"{text} (thresholds v{policy.version})"


@dataclass(frozen=True)
class _Decision:
    tier: Tier
    reason: TierChangeReason | None


def _decide(*, figures: Figures, policy: TierPolicy, before: CreatorStanding | None) -> _Decision:
    roi = figures.roi
    tier = tier_for(roi, policy)
    if before is None:
        return _Decision(tier, TierChangeReason.FIRST_RATING if tier != Tier.NONE else None)
    if before.tier == tier:
        return _Decision(tier, None)
    if tier == Tier.NONE:
        return _Decision(tier, TierChangeReason.NO_INVESTMENT)
    if before.policy_id != policy.pk and tier_for(roi, before.policy) == before.tier:
        # The same figures kept their old tier under the old thresholds.
        return _Decision(tier, TierChangeReason.POLICY_CHANGED)
    return _Decision(tier, TierChangeReason.ROI_CHANGED)


def metrics_recompute(
    *, trigger: RecomputeTrigger, by: User | None = None, at: datetime | None = None
) -> MetricsRun:
    """Recompute every creator's figures over the policy's window and give each a tier.

    The inputs are added up by a few grouped queries (``figures_by_creator``); the standings
    are replaced by a delete and a bulk insert in one transaction, so a reader sees the old
    ones or the new ones, never a mix. Running it twice at the same moment changes nothing
    the second time.
    """
    now = at or utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime")
    policy = tier_policy_current(at=now)
    start = now - timedelta(days=policy.window_days) if policy.window_days else None
    figures = figures_by_creator(period=Period(start=start, end=now))
    with transaction.atomic():
        # Recomputes take turns: the policy row in force is the one lock they share (PostgreSQL;
        # SQLite serialises writers anyway).
        list(TierPolicy.objects.select_for_update().filter(pk=policy.pk).values_list("pk"))
        run = MetricsRun.objects.create(trigger=trigger, requested_by=by, policy=policy, as_of=now)
        existing = {
            standing.creator_id: standing
            for standing in CreatorStanding.objects.select_related("policy")
        }
        creator_ids = list(Creator.objects.values_list("pk", flat=True))
        new_rows: list[CreatorStanding] = []
        changed_rows: list[CreatorStanding] = []
        changes: list[TierChange] = []
        for creator_id in creator_ids:
            values = figures.get(creator_id)
            if values is None:
                values = ZERO_FIGURES
            before = existing.get(creator_id)
            decision = _decide(figures=values, policy=policy, before=before)
            roi = values.roi
            return_rate = values.return_rate
            standing = before or CreatorStanding(creator_id=creator_id)
            if decision.reason is not None:
                changes.append(
                    TierChange(
                        creator_id=creator_id,
                        at=now,
                        from_tier=before.tier if before is not None else "",
                        to_tier=decision.tier,
                        reason=decision.reason,
                        detail=_explain(decision.tier, roi, policy),
                        roi=rounded(roi),
                        policy=policy,
                        run=run,
                    )
                )
            if before is None or before.tier != decision.tier:
                standing.tier_since = now
            standing.run = run
            standing.policy = policy
            standing.window_start = start
            standing.window_end = now
            standing.currency = REPORT_CURRENCY
            standing.orders = values.orders
            standing.returned_orders = values.returned_orders
            standing.units = values.units
            standing.live_units = values.live_units
            standing.viewers = values.viewers
            standing.sales = values.sales
            standing.kept_sales = values.kept_sales
            standing.cost_of_goods = values.cost_of_goods
            standing.commission = values.commission
            standing.invested = values.invested
            standing.conversion = rounded(values.conversion)
            standing.average_order_value = values.average_order_value
            standing.return_rate = rounded(return_rate)
            standing.roi = _bounded(rounded(roi))
            standing.tier = decision.tier
            standing.return_warning = is_return_warning(return_rate, policy)
            standing.phase_out = is_phase_out(roi, policy)
            standing.computed_at = now
            (new_rows if before is None else changed_rows).append(standing)
        # Standings are a snapshot: replacing them all is one DELETE and one INSERT, where a
        # bulk UPDATE of 24 columns is a CASE per column and row (seconds for a few hundred).
        CreatorStanding.objects.filter(pk__in=[row.pk for row in changed_rows]).delete()
        for row in changed_rows:
            row.pk = None
        CreatorStanding.objects.bulk_create([*new_rows, *changed_rows], batch_size=500)
        TierChange.objects.bulk_create(changes, batch_size=500)
        run.creators = len(creator_ids)
        run.tier_changes = len(changes)
        run.finished_at = utcnow()
        run.save(update_fields=["creators", "tier_changes", "finished_at"])
    return run


def _bounded(value: Decimal | None) -> Decimal | None:
    """Keep a huge ROI (a sale against a one-cent sample) within the column's 12 digits."""
    if value is None:
        return None
    limit = Decimal("999999999999.9999")
    return max(-limit, min(limit, value))
