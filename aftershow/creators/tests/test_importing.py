"""Creator and collaboration files: all rows or none, errors naming row and column."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from aftershow.creators.importing import (
    ImportRejected,
    RowError,
    collaborations_import,
    creators_import,
)
from aftershow.creators.models import Collaboration, CollaborationRate, Creator
from aftershow.creators.services import commission_terms_at
from aftershow.creators.tests.factories import CreatorFactory, SkuFactory

pytestmark = pytest.mark.django_db

CREATORS_CSV = (
    "Handle,Display name,Followers,Niche,Country,Email,WhatsApp,Is active\n"
    '@glowwithmia,Mia,"250,000",beauty,us,mia@example.com,+1 555 0100,yes\n'
    "dealsbydan,Dan,40000,gadgets,US,,,\n"
)


def test_creators_csv_creates_then_updates_and_reimport_changes_nothing() -> None:
    result = creators_import(filename="creators.csv", content=CREATORS_CSV.encode())
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    mia = Creator.objects.get(handle="glowwithmia")
    assert (mia.followers, mia.country, mia.email, mia.whatsapp, mia.niche) == (
        250_000,
        "US",
        "mia@example.com",
        "+1 555 0100",
        "beauty",
    )
    again = creators_import(filename="creators.csv", content=CREATORS_CSV.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = CREATORS_CSV.replace("40000", "41000")
    assert creators_import(filename="c.csv", content=changed.encode()).updated == 1


def test_bad_creator_rows_import_nothing_and_name_row_and_column() -> None:
    CreatorFactory(handle="existing", followers=7)
    content = (
        b"handle,followers,email,country\n"
        b"existing,100,,\n"
        b"new.one,lots,,\n"
        b"bad handle!,1,,\n"
        b"new.two,5,not-an-email,USA\n"
        b"new.one,3,,\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        creators_import(filename="c.csv", content=content)
    assert rejected.value.errors == [
        RowError(3, "followers", "Must be a whole number, 0 or more."),
        RowError(4, "handle", "A TikTok handle has only letters, digits, . and _."),
        RowError(5, "country", "Use a two-letter country code, e.g. US."),
        RowError(5, "email", "Not a valid e-mail address."),
        RowError(6, "handle", "@new.one is already on row 3."),
    ]
    assert list(Creator.objects.values_list("handle", "followers")) == [("existing", 7)]


def test_missing_column_and_wrong_file_type() -> None:
    with pytest.raises(ImportRejected) as rejected:
        creators_import(filename="c.csv", content=b"name\nx\n")
    assert str(rejected.value) == "row 1, handle: This column is required."
    with pytest.raises(ImportRejected, match=r"Only \.csv and \.xlsx"):
        creators_import(filename="c.txt", content=b"handle\nx\n")
    with pytest.raises(ImportRejected, match="not a valid XLSX"):
        creators_import(filename="c.xlsx", content=b"PK\x03\x04 broken")


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    load_workbook(io.BytesIO(buffer.getvalue()))  # the file opens again
    return buffer.getvalue()


HEADER = ["handle", "kind", "name", "starts_on", "ends_on", "flat_fee", "sku",
          "platform_rate", "seller_rate", "valid_from", "valid_to"]  # fmt: skip


def test_collaborations_xlsx_with_per_sku_rates_and_validity_periods() -> None:
    mia = CreatorFactory(handle="glowwithmia")
    tee, mug = SkuFactory(code="TEE"), SkuFactory(code="MUG")
    content = _xlsx(
        [
            HEADER,
            ["glowwithmia", "targeted", "Q1", datetime(2026, 1, 1), None, 150, "TEE",
             "20%", 5, None, datetime(2026, 2, 1)],
            ["glowwithmia", "targeted", "Q1", datetime(2026, 1, 1), None, 150, "TEE",
             25, 5, datetime(2026, 2, 1), None],
            ["glowwithmia", "targeted", "Q1", datetime(2026, 1, 1), None, 150, None,
             "12.5", 0, None, None],
        ]
    )  # fmt: skip

    result = collaborations_import(filename="collabs.xlsx", content=content)

    assert (result.collaborations_created, result.rates_created) == (1, 3)
    collaboration = Collaboration.objects.get()
    assert (collaboration.flat_fee, collaboration.starts_on) == (
        Decimal("150.00"),
        date(2026, 1, 1),
    )

    def terms(sku_id: int, at: datetime) -> tuple[Decimal, Decimal]:
        found = commission_terms_at(creator_id=mia.pk, sku_id=sku_id, at=at)
        assert found is not None
        return found.platform_rate, found.seller_rate

    assert terms(tee.pk, datetime(2026, 1, 15, tzinfo=UTC)) == (Decimal("20.00"), Decimal("5.00"))
    assert terms(tee.pk, datetime(2026, 2, 1, tzinfo=UTC)) == (Decimal("25.00"), Decimal("5.00"))
    assert terms(mug.pk, datetime(2026, 2, 1, tzinfo=UTC)) == (Decimal("12.50"), Decimal("0.00"))
    again = collaborations_import(filename="collabs.xlsx", content=content)
    assert (again.collaborations_created, again.rates_created, again.unchanged) == (0, 0, 3)
    assert CollaborationRate.objects.count() == 3


def test_bad_collaboration_rows_import_nothing() -> None:
    CreatorFactory(handle="glowwithmia")
    content = (
        b"handle,kind,starts_on,ends_on,sku,platform_rate,seller_rate\n"
        b"glowwithmia,open,2026-01-01,,,15,0\n"
        b"glowwithmia,open,2026-01-01,,,120,0\n"
        b"nobody,targeted,2026-01-01,,,10,0\n"
        b"glowwithmia,weekly,31/01/2026,2025-01-01,NOPE,10,-1\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        collaborations_import(filename="c.csv", content=content)
    assert [str(error) for error in rejected.value.errors] == [
        "row 3, platform_rate: A commission rate must be between 0 and 100 percent.",
        "row 4, handle: Unknown creator @nobody: import or add the creator first.",
        "row 5, kind: Kind must be open, targeted or off_platform.",
        "row 5, starts_on: Use a date like 2026-01-31.",
        "row 5, sku: Unknown SKU “NOPE”.",
        "row 5, seller_rate: A commission rate must be between 0 and 100 percent.",
    ]
    assert Collaboration.objects.count() == 0 and CollaborationRate.objects.count() == 0
