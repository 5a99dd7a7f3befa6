"""Reading a seller's small CSV or XLSX table (stock counts, creators, collaborations): rows as
text keyed by normalised header, and the all-or-nothing error type the importers share.

Header names are matched in any case and order, with spaces read as underscores. Row numbers
are the spreadsheet's (the header is row 1), so an error names the row the seller sees.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zipfile import BadZipFile

from django.utils.translation import gettext as _
from openpyxl import load_workbook  # type: ignore[import-untyped]  # no stubs, none added

# (row number, {column: text}) for every non-blank data row.
Table = list[tuple[int, dict[str, str]]]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = _("row %(row)s") % {"row": self.row} if self.row else _("file")
        return (
            f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


class ImportRejected(Exception):
    """The file was not imported; nothing changed. ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


def read_table(
    filename: str, content: bytes, *, required: Sequence[str], known: Sequence[str]
) -> Table:
    """Every non-blank data row of a CSV or XLSX file, keeping only the ``known`` columns;
    refuses the file when a ``required`` column is missing or there is no row at all."""
    name = filename.lower()
    if name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")  # Excel writes a BOM
        except UnicodeDecodeError:
            raise ImportRejected([RowError(0, "", _("The CSV file is not UTF-8."))]) from None
        table = [list(row) for row in csv.reader(io.StringIO(text))]
    elif name.endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (BadZipFile, KeyError, ValueError, OSError):
            raise ImportRejected(
                [RowError(0, "", _("The file is not a valid XLSX workbook."))]
            ) from None
        sheet = book.worksheets[0]
        table = [[cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        raise ImportRejected([RowError(0, "", _("Only .csv and .xlsx files can be imported."))])
    if not table:
        raise ImportRejected([RowError(0, "", _("The file is empty."))])
    header = [cell.strip().lower().replace(" ", "_") for cell in table[0]]
    missing = [column for column in required if column not in header]
    if missing:
        raise ImportRejected(
            [RowError(1, column, _("This column is required.")) for column in missing]
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        rows.append(
            (
                number,
                {
                    column: (cells[index].strip() if index < len(cells) else "")
                    for index, column in enumerate(header)
                    if column in known
                },
            )
        )
    if not rows:
        raise ImportRejected([RowError(0, "", _("The file has no rows to import."))])
    return rows


def cell_text(value: object) -> str:
    """An XLSX cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # XLSX stores every number as a float
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
