"""Streaming rows out of a CSV or XLSX file, whatever state the seller's file is in.

CSV vs XLSX is decided by the file's first bytes (§6.1), never by its name. Rows come out one at
a time with the number a spreadsheet shows for them (the header is row 1 when it is the first
row; a quoted multi-line cell is still one row), every cell trimmed of TikTok's trailing tab and
of spaces (§0). Memory stays flat whatever the file's size: nothing is read ahead but one row.

- CSV: UTF-8 with or without BOM (``utf-8-sig``), a real CSV parser (quoted multi-line cells),
  ``strict`` so that a file cut inside a quoted cell is reported, not silently patched up.
- XLSX: openpyxl in read-only (streaming) mode; the ``<dimension>`` tag TikTok writes can be
  understated (§0), so it is reset and every row present is read.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import ParseError

from django.utils.translation import gettext as _
from openpyxl import load_workbook  # type: ignore[import-untyped]  # no stubs, none added
from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

from aftershow.imports.headers import DESCRIPTION_ROW_MARKER, Detection, foreign_marketplace
from aftershow.imports.values import FatalImportError

# Banner rows above the header (finance exports: disclaimer, download time, totals, blank).
HEADER_SEARCH_ROWS = 10
XLSX_MAGIC = b"PK\x03\x04"
# Numbers from 10^15 up are beyond Excel's 15 significant digits.
EXCEL_EXACT_LIMIT = 1e15
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls

Row = tuple[int, list[str]]


@dataclass
class Table:
    detection: Detection
    header: list[str]
    header_row: int
    rows: Iterator[Row]
    sheet: str = ""


def _cell_text(value: object) -> str:
    """An XLSX cell as the text a CSV export would have held."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # TikTok writes ids as text. A long number stored as a float went through Excel, which
        # kept 15 significant digits: shown as Excel shows it ("5.77106943312564E+17"), so the
        # id checks refuse the file.
        if abs(value) >= EXCEL_EXACT_LIMIT:
            return f"{value:.15G}"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


def _not_recognised(header: list[str]) -> FatalImportError:
    marketplace = foreign_marketplace(header)
    if marketplace:
        return FatalImportError(
            _("This looks like an %(marketplace)s order report, not a TikTok Shop export.")
            % {"marketplace": marketplace}
            if marketplace[0] in "AEIOU"
            else _("This looks like a %(marketplace)s order report, not a TikTok Shop export.")
            % {"marketplace": marketplace}
        )
    shown = ", ".join(cell for cell in header[:6] if cell) or "(no header)"
    return FatalImportError(
        _(
            "Not a TikTok Shop export aftershow knows: expected a Seller Center order export, "
            "an Affiliate Center affiliate-orders export, a finance statement or a returns export. "
            "The first columns are: %(shown)s."
        )
        % {"shown": shown}
    )


def _locate_header(
    rows: Iterator[Row], detect: Callable[[list[str]], Detection | None]
) -> tuple[Detection, list[str], int] | list[str]:
    """Find the header among the first rows; returns the first non-empty row if none matches."""
    first_seen: list[str] = []
    for number, cells in rows:
        if not any(cells):
            continue
        if not first_seen:
            first_seen = cells
        detection = detect(cells)
        if detection is not None:
            while cells and not cells[-1]:
                cells.pop()
            return detection, cells, number
        if number >= HEADER_SEARCH_ROWS:
            break
    return first_seen


def _data_rows(rows: Iterator[Row], width: int, header_row: int, *, pad: bool) -> Iterator[Row]:
    """Data rows only: the description row and blank rows dropped, short rows refused.

    XLSX rows omit their trailing empty cells (``pad``); a CSV row that is short is damage.
    """
    for number, cells in rows:
        if number == header_row + 1 and cells and cells[0] == DESCRIPTION_ROW_MARKER:
            continue
        if not any(cells):
            continue
        if pad and len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        if len(cells) < width:
            raise FatalImportError(
                _(
                    "Row %(number)s has %(cells)s of the header's %(width)s columns: the file is "
                    "truncated or damaged. Download it again from Seller Center."
                )
                % {"number": number, "cells": len(cells), "width": width},
                row=number,
            )
        if len(cells) > width:
            if any(cells[width:]):
                raise FatalImportError(
                    _(
                        "Row %(number)s has more columns than the header (%(cells)s > %(width)s): "
                        "the file is damaged."
                    )
                    % {"number": number, "cells": len(cells), "width": width},
                    row=number,
                )
            del cells[width:]
        yield number, cells


def _csv_rows(handle: IO[str]) -> Iterator[Row]:
    reader = csv.reader(handle, strict=True)
    number = 0
    try:
        for record in reader:
            number += 1
            yield number, list(map(str.strip, record))
    except csv.Error as error:
        if "end of data" in str(error) or "EOF" in str(error):
            raise FatalImportError(
                _(
                    "The file ends inside a quoted cell after row %(number)s: it is truncated. "
                    "Download it again from Seller Center."
                )
                % {"number": number},
                row=number + 1,
            ) from error
        raise FatalImportError(
            _("Row %(row)s is not valid CSV (%(error)s).") % {"row": number + 1, "error": error},
            row=number + 1,
        ) from error
    except UnicodeDecodeError as error:
        raise FatalImportError(
            _(
                "Row %(row)s is not UTF-8 text: the file was re-saved in another encoding. "
                "Export it again from Seller Center."
            )
            % {"row": number + 1},
            row=number + 1,
        ) from error


def _xlsx_rows(sheet: object) -> Iterator[Row]:
    sheet.reset_dimensions()  # type: ignore[attr-defined]
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
            yield number, [_cell_text(value) for value in values]
    except (zipfile.BadZipFile, ParseError, EOFError, KeyError) as error:
        raise FatalImportError(
            _("The XLSX file is truncated or damaged and cannot be read to its end.")
        ) from error


@contextmanager
def open_table(path: Path, detect: Callable[[list[str]], Detection | None]) -> Iterator[Table]:
    """Open ``path`` and position it after its header; raises FatalImportError when the file
    is empty, unreadable, or not one of the formats ``detect`` knows."""
    with path.open("rb") as probe:
        head = probe.read(4096)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise FatalImportError(_("The file is empty."))
    if head.startswith(OLE_MAGIC):
        raise FatalImportError(
            _("This is an old Excel 97-2003 (.xls) file: export CSV or XLSX from Seller Center.")
        )
    if head.startswith(XLSX_MAGIC):
        with _open_xlsx(path, detect) as table:
            yield table
        return
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        rows = _csv_rows(handle)
        located = _locate_header(rows, detect)
        if isinstance(located, list):
            raise _not_recognised(located)
        detection, header, header_row = located
        yield Table(
            detection, header, header_row, _data_rows(rows, len(header), header_row, pad=False)
        )


@contextmanager
def _open_xlsx(path: Path, detect: Callable[[list[str]], Detection | None]) -> Iterator[Table]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ParseError) as error:
        raise FatalImportError(
            _("The XLSX file is truncated or damaged and cannot be opened.")
        ) from error
    try:
        first_seen: list[str] = []
        for sheet in workbook.worksheets:
            rows = _xlsx_rows(sheet)
            located = _locate_header(rows, detect)
            if isinstance(located, list):
                first_seen = first_seen or located
                continue
            detection, header, header_row = located
            yield Table(
                detection,
                header,
                header_row,
                _data_rows(rows, len(header), header_row, pad=True),
                sheet=sheet.title,
            )
            return
        if not first_seen:
            raise FatalImportError(_("The file is empty."))
        raise _not_recognised(first_seen)
    finally:
        workbook.close()
