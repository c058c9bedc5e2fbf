"""Timestamps read from ``timestamptz`` columns, in UTC whatever the session time zone."""

from datetime import UTC, datetime


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
