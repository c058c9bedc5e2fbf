"""``SystemClock``: the real time, for the core's Clock port."""

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
