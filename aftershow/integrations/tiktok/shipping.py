"""TikTok Shipping as a label provider (``LabelProvider`` of :mod:`aftershow.fulfillment.labels`).

- ``quote``: Get Eligible Shipping Service for the order's lines, weight and box.
- ``buy``: Create Packages with the chosen ``shipping_service_id`` (TikTok buys the label and
  assigns the tracking number), then Get Package Shipping Document and download the 4x6 PDF at
  once: ``doc_url`` is only valid 24 hours (channel-apis.md §1.7).

A label is never bought twice. Before Create Packages the provider reads the order on TikTok
(Get Order Detail): lines that already sit in a package with a tracking number were labelled
by an earlier call whose answer never got back (a crash, a lost response), and that package's
label is returned instead of buying another. A :class:`PlatformLabelPurchase` row, keyed by
the idempotency key and written before TikTok is asked, lets a retry skip that read and keeps
two workers from buying the same label at once (a claim with a lease, so a killed worker's
claim lapses).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, TypeVar

import httpx
from django.db import IntegrityError, transaction
from django.db.models import Q

from aftershow.core.http import (
    ChannelError,
    OutboundHttp,
    RetryableChannelError,
    TerminalChannelError,
    default_classifier,
)
from aftershow.core.timeutils import utcnow
from aftershow.fulfillment.labels.base import (
    LabelError,
    PurchasedLabel,
    RateQuote,
    ShipmentRequest,
)
from aftershow.integrations.models import PlatformLabelPurchase
from aftershow.integrations.services import integration_log_record
from aftershow.integrations.tiktok.fulfillment import (
    REMORSE_WINDOW,
    OrderLinePackage,
    ParcelSize,
    TikTokFulfillmentApi,
)
from aftershow.integrations.tiktok.sync import TikTokConnector
from aftershow.shops.models import Channel, Shop

T = TypeVar("T")

PROVIDER_CODE = "tiktok"
CLAIM_LEASE = timedelta(minutes=2)
OUNCES_PER_POUND = Decimal(16)


def _label_error(error: ChannelError) -> LabelError:
    if isinstance(error, RetryableChannelError):
        return LabelError(f"TikTok is unavailable, try again: {error}", is_retryable=True)
    if error.code == REMORSE_WINDOW:
        return LabelError("the order is still in TikTok's cancellation window", is_retryable=True)
    return LabelError(f"TikTok Shipping refused: {error}")


def _service_name(name: str, provider_name: str) -> str:
    """ "USPS Ground Advantage" → "Ground Advantage": aftershow names services per carrier."""
    prefix = f"{provider_name} "
    return name[len(prefix) :] if provider_name and name.startswith(prefix) else name


class TikTokShippingProvider:
    """Labels bought through TikTok Shipping for one shop's TikTok Shipping orders."""

    code = PROVIDER_CODE

    def __init__(
        self,
        shop: Shop,
        *,
        connector: TikTokConnector | None = None,
        downloader: OutboundHttp | None = None,
    ) -> None:
        self.shop = shop
        self.connector = connector or TikTokConnector(shop)
        self.api = TikTokFulfillmentApi(self.connector.client)
        self.downloader = downloader or OutboundHttp(
            channel=Channel.TIKTOK,
            recorder=lambda exchange: integration_log_record(shop=shop, exchange=exchange),
        )

    def _call(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            # The connector refreshes an expired token and repeats the call once.
            return self.connector._authorized(partial(call, *args, **kwargs))
        except ChannelError as error:
            raise _label_error(error) from error

    @staticmethod
    def _order_id(shipment: ShipmentRequest) -> str:
        if shipment.channel != Channel.TIKTOK:
            raise LabelError("TikTok Shipping only ships TikTok orders")
        if len(shipment.remote_order_ids) != 1:
            raise LabelError(
                "TikTok Shipping labels one order per package: combine the orders on TikTok first"
            )
        return shipment.remote_order_ids[0]

    @staticmethod
    def _parcel(shipment: ShipmentRequest) -> ParcelSize:
        parcel = shipment.parcel
        if parcel.weight_oz <= 0:
            raise LabelError("the package has no weight")
        return ParcelSize(
            weight_lb=parcel.weight_oz / OUNCES_PER_POUND,
            length_in=parcel.length_in,
            width_in=parcel.width_in,
            height_in=parcel.height_in,
        )

    # -- quote -----------------------------------------------------------------------------

    def quote(self, *, shipment: ShipmentRequest) -> list[RateQuote]:
        services = self._call(
            self.api.get_eligible_shipping_services,
            self._order_id(shipment),
            line_item_ids=list(shipment.remote_line_ids),
            parcel=self._parcel(shipment),
        )
        if not services:
            raise LabelError("TikTok Shipping offers no service for this parcel")
        return [
            RateQuote(
                provider=PROVIDER_CODE,
                carrier=service.shipping_provider_name,
                service=_service_name(service.name, service.shipping_provider_name),
                amount=Decimal(service.price),
                currency=service.currency,
                delivery_days=service.latest_delivery_days,
                remote_rate_id=service.id,
            )
            for service in services
        ]

    # -- buy -------------------------------------------------------------------------------

    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        order_id = self._order_id(shipment)
        purchase = self._claim(idempotency_key, order_id, shipment.remote_line_ids)
        try:
            if not purchase.remote_package_id:
                if self._adopt_existing(purchase):
                    # Bought by an earlier call whose answer was lost: the quote it was
                    # bought from is this one's (same key), so its service and price are.
                    purchase.service = purchase.service or quote.service
                    purchase.amount = purchase.amount or quote.amount
                    purchase.currency = quote.currency
                    purchase.save(update_fields=["service", "amount", "currency", "updated_at"])
                else:
                    self._create(purchase, shipment, quote)
            return self._label(purchase)
        finally:
            PlatformLabelPurchase.objects.filter(pk=purchase.pk).update(claimed_until=None)

    def find_label(
        self, *, shipment: ShipmentRequest, remote_shipment_id: str, idempotency_key: str
    ) -> PurchasedLabel | None:
        """The label already bought for this key or these lines, or None (``LabelLookup``)."""
        order_id = self._order_id(shipment)
        purchase = self._claim(idempotency_key, order_id, shipment.remote_line_ids)
        try:
            if purchase.remote_package_id or self._adopt_existing(purchase):
                return self._label(purchase)
            return None
        finally:
            PlatformLabelPurchase.objects.filter(pk=purchase.pk).update(claimed_until=None)

    def _claim(
        self, idempotency_key: str, order_id: str, line_ids: Sequence[str]
    ) -> PlatformLabelPurchase:
        now = utcnow()
        try:
            with transaction.atomic():
                return PlatformLabelPurchase.objects.create(
                    shop=self.shop,
                    idempotency_key=idempotency_key,
                    remote_order_id=order_id,
                    remote_line_ids=sorted(line_ids),
                    claimed_until=now + CLAIM_LEASE,
                )
        except IntegrityError:
            pass
        purchase = PlatformLabelPurchase.objects.get(idempotency_key=idempotency_key)
        if purchase.shop_id != self.shop.pk or purchase.remote_order_id != order_id:
            raise LabelError(f"idempotency key {idempotency_key!r} belongs to another order")
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        taken = PlatformLabelPurchase.objects.filter(free, pk=purchase.pk).update(
            claimed_until=now + CLAIM_LEASE
        )
        if not taken:
            raise LabelError("this label is being bought right now", is_retryable=True)
        purchase.refresh_from_db()
        return purchase

    def _adopt_existing(self, purchase: PlatformLabelPurchase) -> bool:
        """Take over the package TikTok already labelled for these lines, if there is one."""
        orders = self._call(self.api.get_order_packages, [purchase.remote_order_id])
        if not orders:
            raise LabelError(f"TikTok has no order {purchase.remote_order_id}")
        order = orders[0]
        wanted = set(purchase.remote_line_ids)
        lines = [line for line in order.line_items if line.id in wanted]
        if len(lines) != len(wanted):
            raise LabelError("a line of the package is not on the TikTok order")
        labelled = [line for line in lines if line.tracking_number]
        if not labelled:
            return False
        packages = {line.package_id for line in lines}
        if len(labelled) != len(lines) or len(packages) != 1:
            raise LabelError("TikTok already labelled some of these lines in another package")
        self._remember(purchase, lines[0])
        return True

    def _remember(self, purchase: PlatformLabelPurchase, line: OrderLinePackage) -> None:
        purchase.remote_package_id = line.package_id
        purchase.tracking_number = line.tracking_number
        purchase.shipping_provider_id = line.shipping_provider_id
        purchase.carrier = line.shipping_provider_name or purchase.carrier
        purchase.save(
            update_fields=[
                "remote_package_id",
                "tracking_number",
                "shipping_provider_id",
                "carrier",
                "updated_at",
            ]
        )

    def _create(
        self, purchase: PlatformLabelPurchase, shipment: ShipmentRequest, quote: RateQuote
    ) -> None:
        if not quote.remote_rate_id:
            raise LabelError("the quote has no TikTok shipping service id")
        created = self._call(
            self.api.create_package,
            purchase.remote_order_id,
            line_item_ids=purchase.remote_line_ids,
            shipping_service_id=quote.remote_rate_id,
            parcel=self._parcel(shipment),
        )
        # Saved at once: from here on a retry must find this package, not buy another.
        service = created.shipping_service_info
        purchase.remote_package_id = created.package_id
        purchase.carrier = service.shipping_provider_name if service else quote.carrier
        purchase.shipping_provider_id = service.shipping_provider_id if service else ""
        purchase.service = (
            _service_name(service.name, service.shipping_provider_name)
            if service
            else quote.service
        )
        try:
            purchase.amount = Decimal(service.price) if service else quote.amount
        except InvalidOperation:
            purchase.amount = quote.amount
        purchase.currency = service.currency if service else quote.currency
        purchase.save()

    def _label(self, purchase: PlatformLabelPurchase) -> PurchasedLabel:
        document = self._call(self.api.get_shipping_document, purchase.remote_package_id)
        try:
            pdf = self._download(document.doc_url)
        except TerminalChannelError:
            # The link expired (24 h) or vanished: ask for a fresh one, once.
            document = self._call(self.api.get_shipping_document, purchase.remote_package_id)
            pdf = self._download(document.doc_url)
        if document.tracking_number and document.tracking_number != purchase.tracking_number:
            purchase.tracking_number = document.tracking_number
            purchase.save(update_fields=["tracking_number", "updated_at"])
        return PurchasedLabel(
            provider=PROVIDER_CODE,
            carrier=purchase.carrier,
            service=purchase.service,
            tracking_number=purchase.tracking_number,
            amount=purchase.amount,
            currency=purchase.currency,
            label_pdf=pdf,
            remote_shipment_id=purchase.remote_package_id,
            remote_provider_id=purchase.shipping_provider_id,
        )

    def _download(self, url: str) -> bytes:
        try:
            response = self.downloader.send(
                lambda: httpx.Request("GET", url), classify=default_classifier
            )
        except RetryableChannelError as error:
            raise _label_error(error) from error
        if not response.content.startswith(b"%PDF"):
            raise LabelError("TikTok's shipping document is not a PDF", is_retryable=True)
        return response.content
