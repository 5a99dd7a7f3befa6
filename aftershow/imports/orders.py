"""Seller Center order export (§1) → orders, through ``orders_upsert`` like every API order.

Rows are one per SKU line with the order-level amounts repeated on each (§0): rows are grouped
by ``Order ID`` (TikTok writes an order's rows together), per-line amounts are summed, order-level
ones are read once, never summed. How a parsed order meets stored orders and lines (line
identity, fields the file lacks) is in :mod:`aftershow.imports.reconcile`.

Update time. The export has no update time, so an order's ``remote_updated_at`` is its latest
event time in the file (created, paid, RTS, shipped, delivered, cancelled) *minus* a few
microseconds that rank its status: between two files of the same instant the further status
wins ("Completed" over "Delivered"), and against the API, whose update times are whole seconds,
the API wins a tie. An older file therefore never rolls back what a newer file or the API
stored, a newer event in a file is applied as a webhook would be, and the same file imported
twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter

from django.utils.translation import gettext as _

from aftershow.imports import headers as h
from aftershow.imports.headers import ColumnIndex
from aftershow.imports.models import IssueSeverity
from aftershow.imports.reader import Row, Table
from aftershow.imports.report import ImportReport
from aftershow.imports.values import (
    REGION_TIME_ZONES,
    ZERO,
    DamagedIdError,
    DateOrder,
    FatalImportError,
    IdDamageCounter,
    MixedRegionError,
    RowError,
    TimeParser,
    ValueProblem,
    count,
    country_code,
    money,
    numeric_id,
    tracking_id,
    us_state_code,
)
from aftershow.orders.models import PlatformStatus
from aftershow.orders.types import IncomingAddress

# Long ids seen before Excel damage is judged early (it is judged again at the end of the file).
DAMAGE_SAMPLE = 200
# Amount texts remembered with their value: an export repeats a few prices, fees and zeros on
# every row. Bounded so that memory stays flat whatever the file.
AMOUNT_CACHE_SIZE = 4096

# The cells each part of a row is read from, fetched with one ``itemgetter`` call per row: a
# method call per cell was a tenth of the import's time.
_ORDER_COLUMNS = (
    h.CREATED_TIME, h.PAID_TIME, h.RTS_TIME, h.SHIPPED_TIME, h.DELIVERED_TIME, h.CANCELLED_TIME,
    h.PACKAGE_ID, h.TRACKING_ID, h.CANCELATION_RETURN_TYPE, h.BUYER_USERNAME, h.BUYER_NICKNAME,
    h.SHIPPING_FEE_AFTER_DISCOUNT, h.TAXES, h.ORDER_AMOUNT, h.DELIVERY_OPTION_TYPE,
    h.FULFILLMENT_TYPE, h.DELIVERY_OPTION, h.BUYER_MESSAGE,
)  # fmt: skip
_ADDRESS_COLUMNS = (
    h.COUNTRY, h.STATE, h.ADDRESS_LINE_1, h.DETAIL_ADDRESS, h.ADDRESS_LINE_2,
    h.HOUSE_NAME_OR_NUMBER, h.ADDITIONAL_ADDRESS_INFORMATION, h.RECIPIENT, h.PHONE, h.CITY,
    h.ZIPCODE,
)  # fmt: skip
_SKU_COLUMNS = (
    h.SKU_ID, h.SELLER_SKU, h.VIRTUAL_BUNDLE_SELLER_SKU, h.PRODUCT_ID, h.PRODUCT_NAME,
    h.VARIATION, h.QUANTITY, h.SKU_QUANTITY_OF_RETURN, h.SKU_UNIT_ORIGINAL_PRICE,
    h.SKU_SUBTOTAL_BEFORE_DISCOUNT, h.SKU_PLATFORM_DISCOUNT, h.SKU_SELLER_DISCOUNT,
    h.SKU_SUBTOTAL_AFTER_DISCOUNT,
)  # fmt: skip

STATUS_RANK: dict[str, int] = {
    status: rank
    for rank, status in enumerate(
        (
            PlatformStatus.UNPAID,
            PlatformStatus.ON_HOLD,
            PlatformStatus.AWAITING_SHIPMENT,
            PlatformStatus.PARTIALLY_SHIPPING,
            PlatformStatus.AWAITING_COLLECTION,
            PlatformStatus.IN_TRANSIT,
            PlatformStatus.DELIVERED,
            PlatformStatus.COMPLETED,
            PlatformStatus.CANCELLED,
        )
    )
}


def platform_status(status: str, substatus: str) -> str:
    """Seller Center's ``Order Status`` / ``Order Substatus`` → the API's status (§1e)."""
    main, sub = status.casefold(), substatus.casefold()
    if main == "unpaid":
        return PlatformStatus.UNPAID
    if "on hold" in (main, sub):
        return PlatformStatus.ON_HOLD
    if main in ("to ship", "awaiting shipment", "awaiting collection"):
        if "awaiting collection" in (main, sub):
            return PlatformStatus.AWAITING_COLLECTION
        if sub.startswith("partially"):
            return PlatformStatus.PARTIALLY_SHIPPING
        return PlatformStatus.AWAITING_SHIPMENT
    if main in ("shipped", "in transit"):
        return PlatformStatus.DELIVERED if sub == "delivered" else PlatformStatus.IN_TRANSIT
    if main == "delivered":
        return PlatformStatus.DELIVERED
    if main == "completed":
        return PlatformStatus.COMPLETED
    if main in ("canceled", "cancelled", "cancellation"):
        return PlatformStatus.CANCELLED
    raise ValueProblem(
        _("%(column)s %(status)r / %(substatus)r is not a status aftershow knows")
        % {"column": h.ORDER_STATUS, "status": status, "substatus": substatus},
        h.ORDER_STATUS,
    )


def shipping_type(delivery_option_type: str) -> str:
    text = delivery_option_type.casefold()
    if "seller" in text:
        return "SELLER"
    if "tiktok" in text or "platform" in text:
        return "TIKTOK"
    return ""


def fulfillment_type(text: str) -> str:
    folded = text.casefold()
    if "seller" in folded:
        return "FULFILLMENT_BY_SELLER"
    if "tiktok" in folded or folded == "fbt":
        return "FULFILLMENT_BY_TIKTOK"
    return ""


@dataclass(frozen=True)
class SkuRow:
    row: int
    sku_id: str
    seller_sku: str
    product_id: str
    product_name: str
    variation: str
    quantity: int
    returned_quantity: int
    unit_price: Decimal
    subtotal_before: Decimal
    platform_discount: Decimal
    seller_discount: Decimal
    subtotal_after: Decimal

    @property
    def key(self) -> str:
        """The SKU's identity within the order: TikTok's SKU id, else the seller SKU."""
        return self.sku_id or f"sku:{self.seller_sku}"


@dataclass
class FileOrder:
    """One order of the file, parsed and checked, before it meets the database."""

    order_id: str
    first_row: int
    row_count: int
    platform_status: str
    return_type: str
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    remote_updated_at: datetime
    buyer_username: str
    buyer_nickname: str
    address: IncomingAddress
    currency: str
    shipping_fee: Decimal
    tax: Decimal
    total_amount: Decimal
    shipping_type: str
    fulfillment_type: str
    delivery_option_name: str
    buyer_message: str
    skus: list[SkuRow] = field(default_factory=list)

    @property
    def is_sample(self) -> bool:
        # The export has no sample flag; a US importer reads "nothing to pay" as a sample (§1b).
        return sum((sku.subtotal_before for sku in self.skus), ZERO) == ZERO


class OrderExport:
    """Reads one order export; the same object validates (pass 1) and then writes (pass 2)."""

    def __init__(self, table: Table, *, shop_region: str) -> None:
        detection = table.detection
        if detection.region and detection.region != shop_region:
            raise FatalImportError(
                _(
                    "This order export is from region %(region)s (layout "
                    "%(layout)s) but the shop is in %(shop_region)s."
                )
                % {
                    "region": detection.region,
                    "layout": detection.layout,
                    "shop_region": shop_region,
                }
            )
        if not detection.region.startswith("US") or shop_region != "US":
            raise FatalImportError(
                _(
                    "Order exports of layout %(layout)r (region %(shop_region)s) cannot be "
                    "imported yet: only the US layouts are supported."
                )
                % {"layout": detection.layout, "shop_region": shop_region}
            )
        self.columns = ColumnIndex(table.header)
        missing = self.columns.missing(h.ORDER_REQUIRED)
        if missing:
            raise FatalImportError(
                _(
                    "The order export lacks the columns %(columns)s: TikTok renamed them or the "
                    "file was edited. Export it again from Seller Center."
                )
                % {"columns": ", ".join(missing)}
            )
        self.region = "US"
        self.times = TimeParser(
            order=DateOrder.MONTH_FIRST, zone=REGION_TIME_ZONES["US"], strict_us=True
        )
        self.ids = IdDamageCounter()
        # A column this layout lacks reads the empty cell that ``groups`` appends to each row.
        self._col: dict[str, int] = {}
        for name in (*h.US_ORDER_HEADER_2026, *h.US_ORDER_HEADER_2024):
            position = self.columns.get(name)
            self._col[name] = -1 if position is None else position
        self._order_cells = itemgetter(*(self._col[name] for name in _ORDER_COLUMNS))
        self._address_cells = itemgetter(*(self._col[name] for name in _ADDRESS_COLUMNS))
        self._sku_cells = itemgetter(*(self._col[name] for name in _SKU_COLUMNS))
        self._order_id_at = self._col[h.ORDER_ID]
        self._amount_at = self._col[h.ORDER_AMOUNT]
        self._amounts: dict[str, Decimal] = {}

    # -- cells -------------------------------------------------------------------------------

    def text(self, cells: Sequence[str], name: str) -> str:
        return cells[self._col[name]]

    def money(self, text: str, name: str, row: int) -> Decimal:
        amount = self._amounts.get(text)
        if amount is None:
            amount = money(text, name, row=row, region=self.region)
            if len(self._amounts) >= AMOUNT_CACHE_SIZE:
                self._amounts.clear()
            self._amounts[text] = amount
        return amount

    def time(self, text: str, name: str, row: int) -> datetime | None:
        return self.times.parse(text, name, row=row) if text else None

    def numeric_id(self, text: str, name: str, row: int, *, required: bool) -> str:
        value = numeric_id(text, name, row=row, required=required)
        self.ids.observe(value, row, name)
        return value

    # -- grouping ----------------------------------------------------------------------------

    def groups(self, rows: Iterator[Row], report: ImportReport) -> Iterator[list[Row]]:
        """Consecutive rows of one order. An order whose rows are scattered means the file was
        re-sorted (in Excel): refused, since its orders can no longer be read one at a time.

        The only state kept across the file is the set of order ids already seen (as ints,
        about 60 bytes each), to notice that.
        """
        seen: set[int] = set()
        group: list[Row] = []
        current = ""
        for number, cells in rows:
            report.rows_read += 1
            cells.append("")  # what a column missing from this layout reads
            order_id = cells[self._order_id_at]
            if order_id != current:
                if group:
                    yield group
                group, current = [], order_id
                if order_id.isdigit():
                    key = int(order_id)
                    if key in seen:
                        raise FatalImportError(
                            _(
                                "The rows of order %(order_id)s are not together (row "
                                "%(number)s is apart from the others): the file was re-sorted. "
                                "Export it again from Seller Center."
                            )
                            % {"order_id": order_id, "number": number},
                            row=number,
                        )
                    seen.add(key)
            group.append((number, cells))
        if group:
            yield group

    # -- parsing -----------------------------------------------------------------------------

    def parse(self, group: list[Row], report: ImportReport) -> FileOrder:
        """One order from its rows; raises RowError (the order is skipped) or FatalImportError."""
        first_row, first = group[0]
        row, column = first_row, h.ORDER_ID
        try:
            order_id = self.numeric_id(
                first[self._order_id_at], h.ORDER_ID, first_row, required=True
            )
            column = h.ORDER_STATUS
            status = platform_status(
                self.text(first, h.ORDER_STATUS), self.text(first, h.ORDER_SUBSTATUS)
            )
            column = ""
            order = self._order_fields(order_id, status, first_row, first, report)
            previous: list[str] | None = None
            amount_at = self._amount_at
            for row, cells in group:
                if cells == previous:
                    report.rows_skipped += 1
                    report.add(
                        IssueSeverity.SKIPPED,
                        _("exact duplicate of the row before (order %(order_id)s)")
                        % {"order_id": order_id},
                        row=row,
                    )
                    continue
                previous = cells
                if cells[amount_at] != first[amount_at]:
                    column = h.ORDER_AMOUNT
                    raise ValueProblem(
                        _("%(column)s differs from row %(first_row)s of the same order")
                        % {"column": h.ORDER_AMOUNT, "first_row": first_row}
                    )
                order.skus.append(self._sku_row(row, cells))
        except ValueProblem as problem:
            raise RowError(row, problem.column or column, str(problem)) from problem
        return order

    def _order_fields(
        self, order_id: str, status: str, row: int, cells: list[str], report: ImportReport
    ) -> FileOrder:
        (
            created, paid, rts, shipped, delivered, cancelled, package_id, tracking,
            return_type, buyer_username, buyer_nickname, shipping_fee, tax, total_amount,
            delivery_option_type, fulfillment, delivery_option, buyer_message,
        ) = self._order_cells(cells)  # fmt: skip
        placed_at = self.time(created, h.CREATED_TIME, row)
        if placed_at is None:
            raise ValueProblem(
                _("%(column)s is empty") % {"column": h.CREATED_TIME}, h.CREATED_TIME
            )
        times = [
            placed_at,
            self.time(paid, h.PAID_TIME, row),
            self.time(rts, h.RTS_TIME, row),
            self.time(shipped, h.SHIPPED_TIME, row),
            self.time(delivered, h.DELIVERED_TIME, row),
            self.time(cancelled, h.CANCELLED_TIME, row),
        ]
        latest = max(moment for moment in times if moment is not None)
        self.numeric_id(package_id, h.PACKAGE_ID, row, required=False)
        tracking_id(tracking, row=row, column=h.TRACKING_ID)
        return FileOrder(
            order_id=order_id,
            first_row=row,
            row_count=0,
            platform_status=status,
            return_type=return_type,
            placed_at=placed_at,
            paid_at=times[1],
            shipped_at=times[3],
            delivered_at=times[4],
            cancelled_at=times[5],
            remote_updated_at=latest
            - timedelta(microseconds=len(STATUS_RANK) - STATUS_RANK[status]),
            buyer_username=buyer_username,
            buyer_nickname=buyer_nickname or buyer_username,
            address=self._address(cells, row, report),
            currency="USD",
            shipping_fee=self.money(shipping_fee, h.SHIPPING_FEE_AFTER_DISCOUNT, row),
            tax=self.money(tax, h.TAXES, row),
            total_amount=self.money(total_amount, h.ORDER_AMOUNT, row),
            shipping_type=shipping_type(delivery_option_type),
            fulfillment_type=fulfillment_type(fulfillment),
            delivery_option_name=delivery_option,
            buyer_message=buyer_message,
        )

    def _address(self, cells: list[str], row: int, report: ImportReport) -> IncomingAddress:
        (
            country_text, state_text, address_line_1, detail_address, address_line_2,
            house_name_or_number, additional_information, recipient, phone, city, zipcode,
        ) = self._address_cells(cells)  # fmt: skip
        country = country_code(country_text) if country_text else ""
        if country and country != self.region:
            raise MixedRegionError(
                _(
                    "Row %(row)s is an order to %(country_text)s, in a file of the "
                    "%(region)s shop: the file mixes regions."
                )
                % {"row": row, "country_text": country_text, "region": self.region},
                row=row,
                column=h.COUNTRY,
            )
        state = us_state_code(state_text) if state_text else ""
        if state_text and not state:
            # Kept without a state: address screening flags it, the order is not lost.
            report.add(
                IssueSeverity.WARNING,
                _("%(state_text)r is not a US state; the address is kept without one")
                % {"state_text": state_text},
                row=row,
                column=h.STATE,
            )
        line1 = address_line_1 or detail_address
        line2 = address_line_2 or " ".join(
            part for part in (house_name_or_number, additional_information) if part
        )
        return IncomingAddress(
            name=recipient,
            phone=phone,
            line1=line1,
            line2=line2,
            city=city,
            state=state,
            postal_code=zipcode,
            country=country or self.region,
            full_address=", ".join(
                part for part in (line1, line2, city, state_text, zipcode, country_text) if part
            ),
        )

    def _sku_row(self, row: int, cells: list[str]) -> SkuRow:
        (
            sku_id_text, seller_sku, bundle_seller_sku, product_id, product_name, variation,
            quantity, returned_quantity, unit_price, subtotal_before, platform_discount,
            seller_discount, subtotal_after,
        ) = self._sku_cells(cells)  # fmt: skip
        sku_id = self.numeric_id(sku_id_text, h.SKU_ID, row, required=False)
        seller_sku = seller_sku or bundle_seller_sku
        if not sku_id and not seller_sku:
            raise ValueProblem(
                _("%(sku_column)s and %(seller_sku_column)s are both empty")
                % {"sku_column": h.SKU_ID, "seller_sku_column": h.SELLER_SKU},
                h.SKU_ID,
            )
        return SkuRow(
            row=row,
            sku_id=sku_id,
            seller_sku=seller_sku or sku_id,
            product_id=self.numeric_id(product_id, h.PRODUCT_ID, row, required=False),
            product_name=product_name,
            variation=variation,
            quantity=count(quantity, h.QUANTITY, minimum=1),
            returned_quantity=count(returned_quantity, h.SKU_QUANTITY_OF_RETURN),
            unit_price=self.money(unit_price, h.SKU_UNIT_ORIGINAL_PRICE, row),
            subtotal_before=self.money(subtotal_before, h.SKU_SUBTOTAL_BEFORE_DISCOUNT, row),
            platform_discount=self.money(platform_discount, h.SKU_PLATFORM_DISCOUNT, row),
            seller_discount=self.money(seller_discount, h.SKU_SELLER_DISCOUNT, row),
            subtotal_after=self.money(subtotal_after, h.SKU_SUBTOTAL_AFTER_DISCOUNT, row),
        )

    # -- the whole file ----------------------------------------------------------------------

    def orders(self, rows: Iterator[Row], report: ImportReport) -> Iterator[FileOrder]:
        """Every valid order of the file; row problems go to the report, fatal ones are raised.

        Excel damage is judged over the file's ids (see ``IdDamageCounter``): as soon as a
        sample of them says so, and in any case once the whole file has been read.
        """
        for group in self.groups(rows, report):
            try:
                order = self.parse(group, report)
            except RowError as error:
                report.rows_skipped += len(group)
                report.add(
                    IssueSeverity.ERROR,
                    _("order skipped (%(rows)s rows): %(reason)s")
                    % {"rows": len(group), "reason": error.message},
                    row=error.row,
                    column=error.column,
                )
                continue
            order.row_count = len(group)
            report.orders_in_file += 1
            if self.ids.long_ids >= DAMAGE_SAMPLE and self.ids.is_damaged:
                raise self._damage()
            yield order
        if self.ids.is_damaged:
            raise self._damage()

    def _damage(self) -> FatalImportError:
        return DamagedIdError(
            _(
                "%(zero_tailed)s of the file's %(long_ids)s long ids end in zeros "
                "past their 15th digit (e.g. %(column)s %(example)s "
                "on row %(row)s): the file was opened and saved in Excel, which "
                "keeps only 15 digits of a number. Export it again from Seller Center and "
                "import it without opening it in Excel."
            )
            % {
                "zero_tailed": self.ids.zero_tailed,
                "long_ids": self.ids.long_ids,
                "column": self.ids.first_column,
                "example": self.ids.first_example,
                "row": self.ids.first_row,
            },
            row=self.ids.first_row,
            column=self.ids.first_column,
        )
