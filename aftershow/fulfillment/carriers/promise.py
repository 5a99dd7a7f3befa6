"""Business days, the delivery date promised to the buyer, and when a service would arrive.

The promise is TikTok's seller-shipping delivery promise (``data/delivery_promises.json``):
Express 3 business days, Standard and Economy 6, counted from payment. TikTok also sends a
``delivery_due_time`` that the order model does not keep yet; when it does, it should win.
Business days are Monday to Friday; US federal holidays are not skipped (documented
approximation: a holiday week makes an estimate one day optimistic).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

PROMISES_FILE = Path(__file__).resolve().parent.parent / "data" / "delivery_promises.json"
SATURDAY = 5


@dataclass(frozen=True)
class PromiseTable:
    default_business_days: int
    by_keyword: tuple[tuple[str, int], ...]


@functools.cache
def promise_table() -> PromiseTable:
    spec = json.loads(PROMISES_FILE.read_text())
    return PromiseTable(
        default_business_days=int(spec["default_business_days"]),
        by_keyword=tuple((str(key), int(days)) for key, days in spec["by_delivery_option_keyword"]),
    )


@functools.lru_cache(maxsize=4096)
def add_business_days(start: date, days: int) -> date:
    """The date ``days`` business days after ``start`` (a weekend start counts from Monday).
    Remembered: a burst asks the same few questions thousands of times."""
    current = start
    remaining = days
    while current.weekday() >= SATURDAY:
        current += timedelta(days=1)
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < SATURDAY:
            remaining -= 1
    return current


def promised_business_days(delivery_option_name: str) -> int:
    table = promise_table()
    name = delivery_option_name.lower()
    for keyword, days in table.by_keyword:
        if keyword in name:
            return days
    return table.default_business_days


def promised_delivery_date(*, paid_at: datetime, delivery_option_name: str) -> date:
    return add_business_days(paid_at.date(), promised_business_days(delivery_option_name))
