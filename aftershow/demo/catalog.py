"""The demo seller's catalogue, created both in aftershow and in the sandbox shop."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aftershow.catalog.models import ChannelListing, Product, Sku
from aftershow.inventory.models import Warehouse
from aftershow.inventory.services import stock_receive
from aftershow.shops.models import Shop

if TYPE_CHECKING:
    from aftershow.sandbox.tiktok import TikTokSandbox

# (product, seller SKU, variant, price, weight oz, LxWxH in, unit cost, share of the stream)
DEMO_SKUS = (
    ("Cloud Tee", "TEE-BLK-M", "Black / M", "19.99", "7", (10, 8, 1), "4.10", 30),
    ("Cloud Tee", "TEE-WHT-L", "White / L", "19.99", "7.5", (10, 8, 1), "4.10", 20),
    ("Glow Serum 30ml", "SERUM-30", "30 ml", "24.50", "4", (5, 3, 3), "3.80", 25),
    ("Glow Serum 30ml", "SERUM-60", "60 ml", "39.00", "7", (6, 3, 3), "5.90", 10),
    ("Trail Bottle 1L", "BOTTLE-1L", "Sage", "29.00", "14", (11, 4, 4), "6.20", 10),
    ("Desk Lamp Mini", "LAMP-MINI", "Warm white", "44.00", "38", (14, 10, 8), "11.00", 5),
)


def demo_catalog_create(
    *, sandbox: TikTokSandbox, remote_shop_id: str, shop: Shop
) -> dict[str, int]:
    """Create the catalogue on both sides and map them; returns the SKU mix by seller SKU."""
    mix: dict[str, int] = {}
    products: dict[str, list[tuple[Any, ...]]] = {}
    for row in DEMO_SKUS:
        products.setdefault(row[0], []).append(row)
    for title, rows in products.items():
        product, _ = Product.objects.get_or_create(name=title)
        remote = sandbox.store.add_product(
            remote_shop_id,
            title,
            skus=[
                {"seller_sku": code, "price": price, "name": variant, "weight_oz": float(weight)}
                for _, code, variant, price, weight, _, _, _ in rows
            ],
        )
        remote_ids = {sku.seller_sku: sku.id for sku in remote.skus}
        for _, code, variant, _price, weight, (length, width, height), cost, share in rows:
            sku, _ = Sku.objects.update_or_create(
                code=code,
                defaults={
                    "product": product,
                    "name": variant,
                    "weight_oz": Decimal(weight),
                    "length_in": Decimal(length),
                    "width_in": Decimal(width),
                    "height_in": Decimal(height),
                    "cost": Decimal(cost),
                },
            )
            ChannelListing.objects.update_or_create(
                shop=shop,
                remote_sku_id=remote_ids[code],
                defaults={"sku": sku, "remote_product_id": remote.id},
            )
            mix[code] = share
    return mix


def demo_warehouse_create() -> Warehouse:
    """The demo seller ships from Los Angeles, where the sandbox shop's warehouse is."""
    existing = Warehouse.objects.filter(is_default=True).first()
    if existing is not None:
        return existing
    warehouse, _ = Warehouse.objects.update_or_create(
        code="LAX",
        defaults={
            "name": "Demo warehouse",
            "address_line1": "1200 S Alameda St",
            "city": "Los Angeles",
            "state": "CA",
            "postal_code": "90021",
            "is_default": True,
        },
    )
    return warehouse


def demo_stock_receive(*, warehouse: Warehouse, units_per_sku: int) -> None:
    """Put the demo SKUs on the shelf, so the stream's orders are allocated, not backordered."""
    for sku in Sku.objects.filter(code__in=[row[1] for row in DEMO_SKUS]).order_by("pk"):
        stock_receive(
            sku=sku,
            warehouse=warehouse,
            quantity=units_per_sku,
            reference="demo",
            note="demo stock before the stream",
        )
