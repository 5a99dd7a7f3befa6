"""Creators and collaborations as a platform's affiliate API reports them, merged into the CRM.

Connectors map payloads to these dataclasses; the functions here are idempotent: importing the
same data twice changes nothing, and a changed rate closes the old rate at the moment the new
one takes effect (so orders before it keep the rate that was in force).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from aftershow.catalog.models import ChannelListing
from aftershow.creators.models import (
    Collaboration,
    CollaborationKind,
    CollaborationRate,
    Creator,
)
from aftershow.creators.services import validate_rate
from aftershow.shops.models import Shop


@dataclass(frozen=True)
class RemoteCreatorProfile:
    username: str
    nickname: str
    follower_count: int


@dataclass(frozen=True)
class RemoteProductRate:
    remote_product_id: str
    platform_rate: Decimal  # percent
    effective_at: datetime


@dataclass(frozen=True)
class RemoteCollaboration:
    remote_id: str
    kind: CollaborationKind
    name: str
    message: str
    starts_at: datetime
    ends_at: datetime | None
    creator_usernames: tuple[str, ...]
    product_rates: tuple[RemoteProductRate, ...]


@dataclass
class RemoteImportResult:
    creators_created: int = 0
    creators_updated: int = 0
    collaborations_created: int = 0
    collaborations_updated: int = 0
    rates_created: int = 0
    rates_closed: int = 0
    unmapped_products: set[str] = field(default_factory=set)


def creators_upsert_remote(*, profiles: Sequence[RemoteCreatorProfile]) -> RemoteImportResult:
    """Create creators by handle, refreshing name and followers; contacts and notes are ours."""
    result = RemoteImportResult()
    with transaction.atomic():
        known = {
            c.handle: c
            for c in Creator.objects.select_for_update().filter(
                handle__in=[p.username for p in profiles]
            )
        }
        for profile in profiles:
            creator = known.get(profile.username)
            if creator is None:
                known[profile.username] = Creator.objects.create(
                    handle=profile.username,
                    display_name=profile.nickname,
                    followers=profile.follower_count,
                )
                result.creators_created += 1
            elif (creator.display_name, creator.followers) != (
                profile.nickname,
                profile.follower_count,
            ):
                creator.display_name = profile.nickname
                creator.followers = profile.follower_count
                creator.save(update_fields=["display_name", "followers", "updated_at"])
                result.creators_updated += 1
    return result


def collaborations_upsert_remote(
    *, shop: Shop, collaborations: Sequence[RemoteCollaboration]
) -> RemoteImportResult:
    """One ``Collaboration`` per (creator, remote collaboration), rates per mapped SKU."""
    result = RemoteImportResult()
    product_ids = {r.remote_product_id for c in collaborations for r in c.product_rates}
    skus_by_product: dict[str, list[int]] = {}
    for remote_product_id, sku_id in ChannelListing.objects.filter(
        shop=shop, remote_product_id__in=product_ids
    ).values_list("remote_product_id", "sku_id"):
        skus_by_product.setdefault(remote_product_id, []).append(sku_id)
    result.unmapped_products = product_ids - skus_by_product.keys()
    for remote in collaborations:
        for product_rate in remote.product_rates:
            validate_rate(product_rate.platform_rate, field="platform_rate")
    with transaction.atomic():
        usernames = {u for c in collaborations for u in c.creator_usernames}
        creators = {c.handle: c for c in Creator.objects.filter(handle__in=usernames)}
        for username in sorted(usernames - creators.keys()):
            creators[username] = Creator.objects.create(handle=username)
            result.creators_created += 1
        for remote in collaborations:
            for username in remote.creator_usernames:
                _upsert_one(shop, remote, creators[username], skus_by_product, result)
    return result


def _upsert_one(
    shop: Shop,
    remote: RemoteCollaboration,
    creator: Creator,
    skus_by_product: dict[str, list[int]],
    result: RemoteImportResult,
) -> None:
    values = {
        "shop": shop,
        "name": remote.name,
        "note": remote.message,
        "starts_on": remote.starts_at.date(),
        "ends_on": remote.ends_at.date() if remote.ends_at else None,
    }
    collaboration = (
        Collaboration.objects.select_for_update()
        .filter(creator=creator, kind=remote.kind, remote_collaboration_id=remote.remote_id)
        .first()
    )
    if collaboration is None:
        collaboration = Collaboration.objects.create(
            creator=creator, kind=remote.kind, remote_collaboration_id=remote.remote_id, **values
        )
        result.collaborations_created += 1
    elif any(getattr(collaboration, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(collaboration, name, value)
        collaboration.save()
        result.collaborations_updated += 1
    open_rates = {rate.sku_id: rate for rate in collaboration.rates.filter(valid_to__isnull=True)}
    for product_rate in remote.product_rates:
        for sku_id in skus_by_product.get(product_rate.remote_product_id, []):
            current = open_rates.get(sku_id)
            if current is not None and current.platform_rate == product_rate.platform_rate:
                continue
            valid_from = max(product_rate.effective_at, remote.starts_at)
            if current is not None:
                # Close the old rate where the new one starts (never before its own start).
                current.valid_to = max(valid_from, current.valid_from)
                if current.valid_to == current.valid_from:
                    current.delete()
                else:
                    current.save(update_fields=["valid_to"])
                result.rates_closed += 1
            CollaborationRate.objects.create(
                collaboration=collaboration,
                sku_id=sku_id,
                platform_rate=product_rate.platform_rate,
                valid_from=valid_from,
            )
            result.rates_created += 1
