"""EasyPost as a label provider, through EasyPost's official Python SDK (channel-apis.md §5.1).

``quote`` creates an EasyPost shipment (which returns its rates); ``buy`` buys one of its rates;
``find_label`` retrieves a shipment to see whether it was bought. The shipment id travels in the
quote, so the purchasing service records it with the purchase intent before buying: a retry
after a crash asks for the shipment instead of buying again, and EasyPost itself refuses a
second purchase of one shipment (``SHIPMENT.POSTAGE.EXISTS``), which ``buy`` turns into the
label already bought.

Label files come from the URLs in the purchase: the PNG (EasyPost's default, 4 x 6 in at
300 dpi, what the batch PDF places on a page) and the ZPL (asked for with
``options.label_format = "ZPL"``). They are fetched through the project's outbound HTTP wrapper.
The SDK calls go through the SDK's own ``requests`` session (its transport is not pluggable)
with the project's timeout; its response hook writes each call to the integration log, and a
5xx/429 becomes a retryable ``LabelError`` that the batch retry repeats (never a blind re-buy:
the intent's shipment id is asked for first).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from easypost.easypost_client import EasyPostClient
from easypost.errors.api.api_error import ApiError
from easypost.errors.general.easypost_error import EasyPostError
from pydantic import BaseModel, ConfigDict

from aftershow.core.http import ChannelError, Exchange, OutboundHttp, Outcome
from aftershow.fulfillment.conf import setting
from aftershow.fulfillment.labels.base import (
    LabelError,
    PurchasedLabel,
    RateQuote,
    ShipmentRequest,
    ShipTo,
)
from aftershow.integrations.services import integration_log_record
from aftershow.shops.models import Shop

# EasyPost's names for the services aftershow chooses (rate card ``easypost_service``).
CARRIER_NAMES = {"USPS": "USPS", "UPS": "UPS", "UPSDAP": "UPS", "FedEx": "FedEx"}
SERVICE_NAMES = {
    ("USPS", "GroundAdvantage"): "Ground Advantage",
    ("USPS", "Priority"): "Priority Mail",
    ("USPS", "Express"): "Priority Mail Express",
    ("UPS", "Ground"): "Ground",
    ("FedEx", "FEDEX_GROUND"): "Ground",
    ("FedEx", "GROUND_HOME_DELIVERY"): "Ground",
}
RETRYABLE_STATUSES = {408, 429, 500, 502, 503, 504}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EpRate(_Model):
    id: str
    carrier: str
    service: str
    rate: Decimal
    currency: str = "USD"
    delivery_days: int | None = None
    shipment_id: str = ""


class EpMessage(_Model):
    carrier: str = ""
    message: str = ""


class EpPostageLabel(_Model):
    label_url: str | None = None
    label_pdf_url: str | None = None
    label_zpl_url: str | None = None


class EpShipment(_Model):
    id: str
    rates: list[EpRate] = []
    messages: list[EpMessage] = []
    tracking_code: str | None = None
    selected_rate: EpRate | None = None
    postage_label: EpPostageLabel | None = None


def _address(address: ShipTo) -> dict[str, str]:
    return {
        "name": address.name,
        "street1": address.line1,
        "street2": address.line2,
        "city": address.city,
        "state": address.state,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone,
    }


def _label_error(error: EasyPostError) -> LabelError:
    if isinstance(error, ApiError):
        status = error.http_status
        # The SDK types ``errors`` as strings; EasyPost sends FieldError objects.
        items: list[Any] = list(error.errors or [])
        details = "; ".join(
            f"{item.get('field', '')}: {item.get('message', '')}"
            if isinstance(item, dict)
            else str(item)
            for item in items
        )
        code = f" [{error.code}]" if error.code else ""
        reason = f"EasyPost{code}: {error.message}" + (f" ({details})" if details else "")
        retryable = status is None or status in RETRYABLE_STATUSES
        return LabelError(reason, is_retryable=retryable)
    return LabelError(f"EasyPost: {error.message}", is_retryable=True)


class EasyPostProvider:
    code = "easypost"

    def __init__(
        self,
        shop: Shop | None = None,
        *,
        api_key: str | None = None,
        api_base: str | None = None,
        http: OutboundHttp | None = None,
    ) -> None:
        key = api_key if api_key is not None else str(setting("EASYPOST_API_KEY"))
        if not key:
            raise LabelError("EasyPost is not connected: set EASYPOST_API_KEY")
        self.client = EasyPostClient(
            key,
            api_base=api_base or str(setting("EASYPOST_API_BASE")),
            timeout=int(settings.HTTP_TIMEOUT_SECONDS),
        )
        self.shop = shop
        # Every SDK call and every label download goes to the integration log (no bodies,
        # no credentials: the method, the path and the outcome).
        self.client.subscribe_to_response_hook(self._log_sdk_call)  # type: ignore[no-untyped-call]
        self.http = http or OutboundHttp(
            channel=self.code,
            recorder=lambda exchange: integration_log_record(shop=shop, exchange=exchange),
        )

    def _log_sdk_call(self, **event: Any) -> None:
        status = int(event.get("http_status") or 0)
        if status == 429 or status >= 500:
            outcome = Outcome.RETRYABLE
        elif status >= 400:
            outcome = Outcome.TERMINAL
        else:
            outcome = Outcome.OK
        started, ended = event.get("request_timestamp"), event.get("response_timestamp")
        method = event.get("method")
        integration_log_record(
            shop=self.shop,
            exchange=Exchange(
                channel=self.code,
                method=str(getattr(method, "value", method) or "").upper(),
                path=urlsplit(str(event.get("path") or "")).path,
                attempt=1,
                outcome=outcome,
                status_code=status or None,
                duration_ms=int((ended - started).total_seconds() * 1000)
                if started and ended
                else 0,
            ),
        )

    def _call(self, action: Any) -> EpShipment:
        try:
            shipment = action()
        except EasyPostError as error:
            raise _label_error(error) from error
        return EpShipment.model_validate(shipment.to_dict())

    def quote(self, *, shipment: ShipmentRequest) -> list[RateQuote]:
        if shipment.ship_from is None:
            raise LabelError("no ship-from address for EasyPost")
        parcel = shipment.parcel
        created = self._call(
            lambda: self.client.shipment.create(
                to_address=_address(shipment.ship_to),
                from_address=_address(shipment.ship_from),  # type: ignore[arg-type]
                parcel={
                    "weight": float(parcel.weight_oz),
                    "length": float(parcel.length_in),
                    "width": float(parcel.width_in),
                    "height": float(parcel.height_in),
                },
                reference=f"package-{shipment.package_id}",
                options={"label_format": "ZPL", "label_size": "4x6"},
            )
        )
        if not created.rates:
            refusals = "; ".join(
                f"{message.carrier}: {message.message}" for message in created.messages
            )
            raise LabelError(f"EasyPost offered no rate ({refusals or 'no reason given'})")
        return [
            RateQuote(
                provider=self.code,
                carrier=CARRIER_NAMES.get(rate.carrier, rate.carrier),
                service=SERVICE_NAMES.get(
                    (CARRIER_NAMES.get(rate.carrier, rate.carrier), rate.service), rate.service
                ),
                amount=rate.rate,
                currency=rate.currency,
                delivery_days=rate.delivery_days,
                remote_rate_id=rate.id,
                remote_shipment_id=created.id,
            )
            for rate in created.rates
        ]

    def buy(
        self, *, shipment: ShipmentRequest, quote: RateQuote, idempotency_key: str
    ) -> PurchasedLabel:
        try:
            bought = self.client.shipment.buy(
                quote.remote_shipment_id, rate={"id": quote.remote_rate_id}
            )
        except ApiError as error:
            if error.code != "SHIPMENT.POSTAGE.EXISTS":
                raise _label_error(error) from error
            # Bought already (by an attempt whose answer was lost): that label is ours.
            existing = self._call(lambda: self.client.shipment.retrieve(quote.remote_shipment_id))
            return self._label(existing)
        except EasyPostError as error:
            raise _label_error(error) from error
        return self._label(EpShipment.model_validate(bought.to_dict()))

    def find_label(
        self, *, shipment: ShipmentRequest, remote_shipment_id: str, idempotency_key: str
    ) -> PurchasedLabel | None:
        found = self._call(lambda: self.client.shipment.retrieve(remote_shipment_id))
        if not found.tracking_code or found.postage_label is None:
            return None
        return self._label(found)

    def _download(self, url: str | None) -> bytes:
        if not url:
            return b""
        try:
            return self.http.send(lambda: httpx.Request("GET", url)).content
        except ChannelError as error:
            raise LabelError(
                f"EasyPost label download failed: {error}", is_retryable=True
            ) from error

    def _label(self, shipment: EpShipment) -> PurchasedLabel:
        rate = shipment.selected_rate
        if rate is None or not shipment.tracking_code or shipment.postage_label is None:
            raise LabelError("EasyPost answered without a label", is_retryable=True)
        carrier = CARRIER_NAMES.get(rate.carrier, rate.carrier)
        return PurchasedLabel(
            provider=self.code,
            carrier=carrier,
            service=SERVICE_NAMES.get((carrier, rate.service), rate.service),
            tracking_number=shipment.tracking_code,
            amount=rate.rate,
            currency=rate.currency,
            label_image=self._download(shipment.postage_label.label_url),
            label_zpl=self._download(shipment.postage_label.label_zpl_url),
            remote_shipment_id=shipment.id,
        )
