"""TikTok Shop fulfillment and logistics calls (202309), typed at the edge.

Signed HTTP goes through :class:`~aftershow.integrations.tiktok.client.TikTokClient`; this module
only knows paths, request bodies and response shapes (official Node SDK
``fulfillmentV202309Api.ts`` / ``logisticsV202309Api.ts``, channel-apis.md §1.7), and the error
codes a caller has to tell apart (§8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aftershow.integrations.tiktok.client import ORDER_DETAIL_MAX_IDS, TikTokClient

# Business codes of the fulfillment endpoints (channel-apis.md §8).
INVALID_TRACKING = "21011022"
DUPLICATE_TRACKING = "21011025"
SHIPPED_TWICE = "21011040"
ORDER_CANCELLED = "21011041"
REMORSE_WINDOW = "21011044"
TRACKING_UPDATED_ONCE = "21011050"
TRACKING_UPDATE_EXPIRED = "21011051"
NO_SHIPPING_DOCUMENT = "11034002"
# TikTok publishes no maximum for Batch Ship Packages (channel-apis.md §7); 50 is the page size
# of its package search and what the sandbox enforces.
BATCH_SHIP_MAX_PACKAGES = 50
# Search Combinable Packages pages hold 1 to 50 (channel-apis.md §1.7).
COMBINABLE_PAGE_SIZE = 50


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShippingProvider(_Model):
    id: str
    name: str


class ShippingService(_Model):
    id: str
    name: str
    price: str = "0"
    currency: str = "USD"
    is_default: bool = False
    earliest_delivery_days: int | None = None
    latest_delivery_days: int | None = None
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""


class CreatedPackage(_Model):
    package_id: str
    order_id: str = ""
    order_line_item_ids: list[str] = Field(default_factory=list)
    shipping_service_info: ShippingService | None = None


class ShippingDocument(_Model):
    doc_url: str
    tracking_number: str = ""


class PackageOrder(_Model):
    id: str


class PackageDetail(_Model):
    package_id: str
    package_status: str = ""
    shipping_type: str = ""
    tracking_number: str = ""
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""
    delivery_option_id: str = ""
    orders: list[PackageOrder] = Field(default_factory=list)


class BatchShipErrorDetail(_Model):
    package_id: str = ""


class BatchShipError(_Model):
    code: int
    message: str = ""
    detail: BatchShipErrorDetail = Field(default_factory=BatchShipErrorDetail)


class CombinablePackage(_Model):
    """A package of Search Combinable Packages and Combine Package, with its orders."""

    id: str
    order_ids: list[str] = Field(default_factory=list)


class _CombinablePage(_Model):
    combinable_packages: list[CombinablePackage] = Field(default_factory=list)
    next_page_token: str = ""


class CombineResult(_Model):
    packages: list[CombinablePackage] = Field(default_factory=list)
    errors: list[BatchShipError] = Field(default_factory=list)


class MarkedPackage(_Model):
    order_id: str = ""
    package_id: str = ""


class TrackingEvent(_Model):
    description: str
    update_time_millis: int


class OrderLinePackage(_Model):
    """A line of Get Order Detail, as far as fulfilment cares."""

    id: str
    package_id: str = ""
    package_status: str = ""
    display_status: str = ""
    tracking_number: str = ""
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""


class OrderPackages(_Model):
    """Get Order Detail, as far as fulfilment cares: status, delivery option, lines' packages."""

    id: str
    status: str
    shipping_type: str = ""
    delivery_option_id: str = ""
    packages: list[PackageOrder] = Field(default_factory=list)
    line_items: list[OrderLinePackage] = Field(default_factory=list)


class _OrderPackagesPage(_Model):
    orders: list[OrderPackages] = Field(default_factory=list)


@dataclass(frozen=True)
class SelfShipment:
    """One entry of Batch Ship Packages; no tracking for a TikTok Shipping package."""

    package_id: str
    tracking_number: str = ""
    shipping_provider_id: str = ""
    handover_method: str = "DROP_OFF"

    def to_wire(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.package_id, "handover_method": self.handover_method}
        if self.tracking_number:
            entry["self_shipment"] = {
                "tracking_number": self.tracking_number,
                "shipping_provider_id": self.shipping_provider_id,
            }
        return entry


@dataclass(frozen=True)
class ParcelSize:
    """Weight in pounds and dimensions in inches (TikTok takes POUND and INCH for the US)."""

    weight_lb: Decimal
    length_in: Decimal
    width_in: Decimal
    height_in: Decimal

    def weight(self) -> dict[str, str]:
        return {"value": str(self.weight_lb.quantize(Decimal("0.001"))), "unit": "POUND"}

    def dimension(self) -> dict[str, str]:
        return {
            "length": str(self.length_in),
            "width": str(self.width_in),
            "height": str(self.height_in),
            "unit": "INCH",
        }


class TikTokFulfillmentApi:
    def __init__(self, client: TikTokClient) -> None:
        self.client = client

    # -- seller shipping -------------------------------------------------------------------

    def batch_ship(self, shipments: Sequence[SelfShipment]) -> list[BatchShipError]:
        """Batch Ship Packages; the packages not listed in the answer were shipped."""
        if not 1 <= len(shipments) <= BATCH_SHIP_MAX_PACKAGES:
            raise ValueError(f"Batch Ship takes 1 to {BATCH_SHIP_MAX_PACKAGES} packages")
        data = self.client.call(
            "POST",
            "/fulfillment/202309/packages/ship",
            body={"packages": [shipment.to_wire() for shipment in shipments]},
        )
        return [BatchShipError.model_validate(error) for error in data.get("errors") or []]

    def search_combinable_packages(self) -> list[CombinablePackage]:
        """Every group of orders TikTok would let the seller ship as one package (all pages)."""
        found: list[CombinablePackage] = []
        token = ""
        while True:
            query = {"page_size": str(COMBINABLE_PAGE_SIZE)}
            if token:
                query["page_token"] = token
            page = _CombinablePage.model_validate(
                self.client.call(
                    "GET", "/fulfillment/202309/combinable_packages/search", query=query
                )
            )
            found += page.combinable_packages
            if not page.next_page_token or not page.combinable_packages:
                return found
            token = page.next_page_token

    def combine_packages(self, groups: Sequence[CombinablePackage]) -> CombineResult:
        """Combine Package: each group's orders into its package; refusals come per group."""
        data = self.client.call(
            "POST",
            "/fulfillment/202309/packages/combine",
            body={
                "combinable_packages": [
                    {"id": group.id, "order_ids": list(group.order_ids)} for group in groups
                ]
            },
        )
        return CombineResult.model_validate(data)

    def ship_package(self, shipment: SelfShipment) -> None:
        body = shipment.to_wire()
        del body["id"]
        self.client.call(
            "POST", f"/fulfillment/202309/packages/{shipment.package_id}/ship", body=body
        )

    def mark_package_shipped(
        self,
        order_id: str,
        *,
        line_item_ids: Sequence[str],
        tracking_number: str,
        shipping_provider_id: str,
    ) -> MarkedPackage:
        data = self.client.call(
            "POST",
            f"/fulfillment/202309/orders/{order_id}/packages",
            body={
                "order_line_item_ids": list(line_item_ids),
                "tracking_number": tracking_number,
                "shipping_provider_id": shipping_provider_id,
            },
        )
        return MarkedPackage.model_validate(data)

    def update_package_shipping_info(
        self, package_id: str, *, tracking_number: str, shipping_provider_id: str
    ) -> None:
        self.client.call(
            "POST",
            f"/fulfillment/202309/packages/{package_id}/shipping_info/update",
            body={"tracking_number": tracking_number, "shipping_provider_id": shipping_provider_id},
        )

    def get_shipping_providers(self, delivery_option_id: str) -> list[ShippingProvider]:
        data = self.client.call(
            "GET", f"/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers"
        )
        return [ShippingProvider.model_validate(p) for p in data.get("shipping_providers", [])]

    # -- TikTok Shipping -------------------------------------------------------------------

    def get_eligible_shipping_services(
        self, order_id: str, *, line_item_ids: Sequence[str], parcel: ParcelSize
    ) -> list[ShippingService]:
        data = self.client.call(
            "POST",
            f"/fulfillment/202309/orders/{order_id}/shipping_services/query",
            body={
                "order_line_item_ids": list(line_item_ids),
                "weight": parcel.weight(),
                "dimension": parcel.dimension(),
            },
        )
        return [ShippingService.model_validate(s) for s in data.get("shipping_services", [])]

    def create_package(
        self,
        order_id: str,
        *,
        line_item_ids: Sequence[str],
        shipping_service_id: str,
        parcel: ParcelSize,
    ) -> CreatedPackage:
        data = self.client.call(
            "POST",
            "/fulfillment/202309/packages",
            body={
                "order_id": order_id,
                "order_line_item_ids": list(line_item_ids),
                "shipping_service_id": shipping_service_id,
                "weight": parcel.weight(),
                "dimension": parcel.dimension(),
            },
        )
        return CreatedPackage.model_validate(data)

    def get_shipping_document(
        self, package_id: str, *, document_type: str = "SHIPPING_LABEL"
    ) -> ShippingDocument:
        data = self.client.call(
            "GET",
            f"/fulfillment/202309/packages/{package_id}/shipping_documents",
            query={"document_type": document_type, "document_size": "A6", "document_format": "PDF"},
        )
        return ShippingDocument.model_validate(data)

    # -- reading -----------------------------------------------------------------------------

    def get_package_detail(self, package_id: str) -> PackageDetail:
        data = self.client.call("GET", f"/fulfillment/202309/packages/{package_id}")
        return PackageDetail.model_validate(data)

    def get_tracking(self, order_id: str) -> list[TrackingEvent]:
        data = self.client.call("GET", f"/fulfillment/202309/orders/{order_id}/tracking")
        return [TrackingEvent.model_validate(event) for event in data.get("tracking", [])]

    def get_order_packages(self, order_ids: Sequence[str]) -> list[OrderPackages]:
        """Get Order Detail, read for its packages (50 ids a call)."""
        if not 1 <= len(order_ids) <= ORDER_DETAIL_MAX_IDS:
            raise ValueError(f"Get Order Detail takes 1 to {ORDER_DETAIL_MAX_IDS} ids")
        data = self.client.call("GET", "/order/202309/orders", query={"ids": ",".join(order_ids)})
        return _OrderPackagesPage.model_validate(data).orders
