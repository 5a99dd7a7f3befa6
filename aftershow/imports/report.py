"""What one import did, gathered while it runs and saved on its ``ImportRun``."""

from __future__ import annotations

from dataclasses import dataclass, field

from aftershow.imports.models import IssueSeverity
from aftershow.orders.services import UpsertResult

# Every issue is counted; the first ones are kept with their row and column for the report.
# A file with 100,000 broken rows must not hold 100,000 messages in memory.
MAX_STORED_ISSUES = 500


@dataclass(frozen=True)
class Issue:
    row: int | None
    column: str
    severity: IssueSeverity
    message: str


@dataclass
class ImportReport:
    rows_read: int = 0
    rows_skipped: int = 0
    orders_in_file: int = 0
    orders: UpsertResult = field(default_factory=UpsertResult)
    records_created: int = 0
    records_updated: int = 0
    records_unchanged: int = 0
    errors_count: int = 0
    warnings_count: int = 0
    issues: list[Issue] = field(default_factory=list)

    def add(
        self, severity: IssueSeverity, message: str, *, row: int | None, column: str = ""
    ) -> None:
        if severity == IssueSeverity.ERROR:
            self.errors_count += 1
        elif severity == IssueSeverity.WARNING:
            self.warnings_count += 1
        if len(self.issues) < MAX_STORED_ISSUES:
            self.issues.append(Issue(row, column, severity, message[:500]))
