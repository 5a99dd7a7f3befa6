"""Demo: the simulated stream sells through several creators' LIVEs, as TikTok reports it.

:func:`demo_creators_attach` (right after the stream is planned) puts the creators in the CRM and
in the sandbox's creator marketplace, gives the host's session its TikTok content id, adds a
targeted collaboration, and tells the sandbox which creator's affiliate link sold each order
(the host and two guests of her multi-guest LIVE). :func:`demo_creators_pull` (once the orders
are in aftershow) pulls TikTok's affiliate orders, which attributes them to creators and the
session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from aftershow.catalog.models import ChannelListing
from aftershow.core.timeutils import to_unix, utcnow
from aftershow.creators.models import (
    Collaboration,
    CollaborationKind,
    CollaborationRate,
    Creator,
    LiveSession,
)
from aftershow.creators.services import live_session_feature_sku
from aftershow.integrations.tiktok.affiliate import TikTokAffiliate
from aftershow.sandbox.tiktok import TikTokSandbox
from aftershow.sandbox.tiktok.simulator import StreamPlan
from aftershow.shops.models import Shop


@dataclass(frozen=True)
class DemoCreator:
    handle: str
    name: str
    followers: int
    niche: str
    share: float  # of the stream's orders sold through this creator's affiliate link


# The host (the demo session's creator) sells most; two guests join her multi-guest LIVE.
# The rest of the orders (5 %) carry no affiliate link: the window rule gives them to the host.
DEMO_CREATORS = (
    DemoCreator("glowwithmia", "Mia", 250_000, "beauty", 0.6),
    DemoCreator("dealsbydan", "Dan", 42_000, "deals", 0.25),
    DemoCreator("lena.livesells", "Lena", 8_500, "lifestyle", 0.1),
)
HOST_CONTENT_ID = "7438100000000000001"
HOST_RATE_BPS = 2000  # the host's targeted collaboration: 20 %
OPEN_RATE_BPS = 1500  # the open collaboration everyone else sells under: 15 %


@dataclass
class _DemoState:
    shop_id: int | None = None
    orders_by_creator: dict[str, int] = field(default_factory=dict)
    pulled: int = 0


_state = _DemoState()


def demo_creators_attach(
    *, sandbox: TikTokSandbox, shop: Shop, plan: StreamPlan, session: LiveSession
) -> None:
    host = DEMO_CREATORS[0]
    desk = sandbox.affiliate
    for demo in DEMO_CREATORS:
        desk.add_creator(demo.handle, follower_count=demo.followers, nickname=demo.name)
        Creator.objects.update_or_create(
            handle=demo.handle,
            defaults={"display_name": demo.name, "followers": demo.followers, "niche": demo.niche},
        )
    session.remote_content_id = HOST_CONTENT_ID
    session.save(update_fields=["remote_content_id"])
    listings = ChannelListing.objects.filter(shop=shop).select_related("sku")
    products = sorted({listing.remote_product_id for listing in listings})
    start = to_unix(plan.start - timedelta(days=1))
    targeted = desk.add_target_collaboration(
        plan.shop_id,
        name="Holiday glow-up",
        creators=[host.handle],
        products=dict.fromkeys(products, HOST_RATE_BPS),
        start_time=start,
        end_time=start + 60 * 86400,
    )
    # The host's collaboration is already in the CRM (as an import from TikTok would put it),
    # with a seller-paid extra on top of TikTok's rate.
    collaboration, _created = Collaboration.objects.update_or_create(
        creator=Creator.objects.get(handle=host.handle),
        kind=CollaborationKind.TARGETED,
        remote_collaboration_id=targeted.id,
        defaults={
            "shop": shop,
            "name": "Holiday glow-up",
            "starts_on": (plan.start - timedelta(days=1)).date(),
            "flat_fee": Decimal("150.00"),
        },
    )
    if not collaboration.rates.exists():
        CollaborationRate.objects.create(
            collaboration=collaboration,
            platform_rate=Decimal(HOST_RATE_BPS) / 100,
            seller_rate=Decimal("3.00"),
            valid_from=plan.start - timedelta(days=1),
        )
    for listing in listings:
        live_session_feature_sku(
            session=session,
            sku_id=listing.sku_id,
            platform_rate=Decimal(HOST_RATE_BPS) / 100,
            seller_rate=Decimal("3.00"),
        )
    counts = desk.attribute_stream(
        plan,
        # A multi-guest LIVE: every creator sells in the host's LIVE (one content id), each
        # through their own affiliate link, so TikTok names the creator per order.
        creators=[(demo.handle, HOST_CONTENT_ID, demo.share) for demo in DEMO_CREATORS],
        commission_rate_bps=OPEN_RATE_BPS,
        seed=plan.spec.seed,
    )
    _state.shop_id = shop.pk
    _state.orders_by_creator = dict(counts)


def demo_creators_pull(*, shop: Shop) -> None:
    """Pull TikTok's affiliate orders into the attribution (creator, session, rate)."""
    now = utcnow()
    report = TikTokAffiliate(shop).pull_orders_between(
        since=now - timedelta(days=2), until=now + timedelta(minutes=5)
    )
    _state.pulled = report.orders_seen


def demo_creators_summary() -> str:
    if _state.shop_id is None:
        return ""
    lines = [f"  affiliate orders pulled from TikTok {_state.pulled}\n"]
    for demo in DEMO_CREATORS:
        attributed = (
            Creator.objects.get(handle=demo.handle).orders.filter(shop_id=_state.shop_id).count()
        )
        lines.append(
            f"    @{demo.handle:<22} {_state.orders_by_creator.get(demo.handle, 0):>5} sold"
            f" · {attributed:>5} attributed in aftershow\n"
        )
    return "".join(lines)
