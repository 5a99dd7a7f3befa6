"""TikTok Update Inventory and Inventory Search over real HTTP against the strict sandbox."""

from __future__ import annotations

import pytest

from aftershow.core.http import TerminalChannelError
from aftershow.integrations.inventory_push import PushStatus, QuantityUpdate
from aftershow.integrations.tiktok import inventory
from aftershow.integrations.tiktok.inventory import TikTokInventory
from aftershow.inventory.models import ChannelWarehouse, Warehouse
from aftershow.sandbox.tiktok.inventory import inventory_book


@pytest.fixture(autouse=True)
def _fresh_warehouse_cache(settings, monkeypatch):
    settings.HTTP_MAX_RETRY_WAIT_SECONDS = 0.05
    monkeypatch.setattr(inventory, "_WAREHOUSES", {})


@pytest.fixture
def product(tiktok_sandbox, tiktok_remote_shop):
    return tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id,
        "Cloud Tee",
        [
            {"seller_sku": "TEE-S", "price": "19.99", "quantity": 40},
            {"seller_sku": "TEE-M", "price": "19.99", "quantity": 50},
        ],
    )


def update(product, index: int, quantity: int, code: str = "") -> QuantityUpdate:
    sku = product.skus[index]
    return QuantityUpdate(
        sku_code=code or sku.seller_sku,
        remote_product_id=product.id,
        remote_sku_id=sku.id,
        quantity=quantity,
        compare_quantity=None,
        idempotency_key=f"k-{index}-{quantity}",
    )


def test_push_lists_every_warehouse_of_the_sku(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, product
):
    book = inventory_book(tiktok_sandbox.store)
    shop_id = tiktok_remote_shop.id
    default = tiktok_remote_shop.default_warehouse_id
    second = book.add_warehouse(shop_id)
    book.assign(shop_id, product.skus[0].id, {default: 10, second: 30})
    # Our warehouse is TikTok's second one for this shop: the quantity goes there.
    ours = Warehouse.objects.create(code="LA", name="LA", is_default=True)
    ChannelWarehouse.objects.create(warehouse=ours, shop=tiktok_shop, remote_warehouse_id=second)

    results = TikTokInventory(tiktok_shop).push_quantities(
        [update(product, 0, 25), update(product, 1, 7)]
    )

    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
    assert book.stock(shop_id, product.skus[0].id).quantities == {default: 0, second: 25}
    assert book.stock(shop_id, product.skus[1].id).quantities == {default: 7}
    assert book.history(shop_id, "TEE-S") == [25]
    assert TikTokInventory(tiktok_shop).read_quantities(["TEE-S", "TEE-M"]) == {}  # not listed


def test_a_missing_warehouse_is_refused_per_sku(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, product
):
    book = inventory_book(tiktok_sandbox.store)
    shop_id = tiktok_remote_shop.id
    second = book.add_warehouse(shop_id)
    connector = TikTokInventory(tiktok_shop)
    data = connector._call(
        "POST",
        f"/product/202309/products/{product.id}/inventory/update",
        {
            "skus": [
                {"id": product.skus[0].id, "inventory": [{"warehouse_id": second, "quantity": 3}]},
                {
                    "id": product.skus[1].id,
                    "inventory": [
                        {"warehouse_id": tiktok_remote_shop.default_warehouse_id, "quantity": 4}
                    ],
                },
            ]
        },
    )
    assert [e["detail"]["sku_id"] for e in data["errors"]] == [product.skus[0].id]
    assert data["errors"][0]["detail"]["extra_errors"][0]["warehouse_id"] == second
    assert book.quantity(shop_id, "TEE-S") == 40  # unchanged
    assert book.quantity(shop_id, "TEE-M") == 4


def test_leaving_out_a_warehouse_is_refused(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, product
):
    book = inventory_book(tiktok_sandbox.store)
    shop_id = tiktok_remote_shop.id
    second = book.add_warehouse(shop_id)
    book.assign(
        shop_id, product.skus[0].id, {tiktok_remote_shop.default_warehouse_id: 5, second: 5}
    )
    data = TikTokInventory(tiktok_shop)._call(
        "POST",
        f"/product/202309/products/{product.id}/inventory/update",
        {
            "skus": [
                {"id": product.skus[0].id, "inventory": [{"warehouse_id": second, "quantity": 1}]}
            ]
        },
    )
    assert "Every warehouse" in data["errors"][0]["message"]
    assert book.quantity(shop_id, "TEE-S") == 10


def test_out_of_range_and_foreign_skus_are_rejected(
    tiktok_sandbox, tiktok_remote_shop, tiktok_shop, product
):
    other = tiktok_sandbox.store.add_product(
        tiktok_remote_shop.id, "Mug", [{"seller_sku": "MUG", "price": "9.99"}]
    )
    foreign = QuantityUpdate("MUG", product.id, other.skus[0].id, 3, None, "k-mug")
    results = TikTokInventory(tiktok_shop).push_quantities(
        [update(product, 0, 100_000), foreign, update(product, 1, 0), update(product, 0, -1)]
    )
    assert [r.status for r in results] == [
        PushStatus.REJECTED,
        PushStatus.REJECTED,
        PushStatus.APPLIED,  # zero: sold out
        PushStatus.REJECTED,
    ]
    assert "quantity" in results[0].message and "belong" in results[1].message
    assert inventory_book(tiktok_sandbox.store).quantity(tiktok_remote_shop.id, "TEE-M") == 0


def test_an_unknown_product_fails_the_call(tiktok_sandbox, tiktok_shop, product):
    with pytest.raises(TerminalChannelError):
        TikTokInventory(tiktok_shop)._call(
            "POST",
            "/product/202309/products/1729999999999999999/inventory/update",
            {"skus": [{"id": product.skus[0].id, "inventory": [{"quantity": 1}]}]},
        )


def test_throttling_is_retried(tiktok_sandbox, tiktok_remote_shop, tiktok_shop, product):
    tiktok_sandbox.faults.fail_next(2, "429")
    results = TikTokInventory(tiktok_shop).push_quantities([update(product, 0, 12)])
    assert results[0].status == PushStatus.APPLIED
    assert tiktok_sandbox.faults.injected["429"] == 2
    assert inventory_book(tiktok_sandbox.store).quantity(tiktok_remote_shop.id, "TEE-S") == 12


def test_failures_past_the_retries_are_retryable_results(
    tiktok_sandbox, tiktok_shop, product, settings
):
    settings.HTTP_MAX_ATTEMPTS = 1
    tiktok_sandbox.faults.fail_next(1, "500")
    results = TikTokInventory(tiktok_shop).push_quantities([update(product, 0, 12)])
    assert results[0].status == PushStatus.FAILED


def test_read_quantities(tiktok_sandbox, tiktok_remote_shop, tiktok_shop, product):
    from aftershow.catalog.models import ChannelListing, Product, Sku

    master = Sku.objects.create(product=Product.objects.create(name="Tee"), code="TEE-S")
    ChannelListing.objects.create(
        sku=master, shop=tiktok_shop, remote_product_id=product.id, remote_sku_id=product.skus[0].id
    )
    assert TikTokInventory(tiktok_shop).read_quantities(["TEE-S", "NOPE"]) == {"TEE-S": 40}


def test_an_unsigned_call_is_refused(tiktok_sandbox, tiktok_shop, product):
    import httpx

    answer = httpx.post(
        f"{tiktok_sandbox.base_url}/product/202309/products/{product.id}/inventory/update",
        json={"skus": []},
    ).json()
    assert answer["code"] == 36009004
