"""Aware UTC datetimes only."""

from __future__ import annotations

from datetime import UTC, datetime


def from_unix(value: int | str | None) -> datetime | None:
    """Platform timestamps are Unix seconds; 0 or empty means "not set"."""
    if value in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def to_unix(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return int(value.timestamp())


def utcnow() -> datetime:
    return datetime.now(tz=UTC)
