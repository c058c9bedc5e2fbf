"""Wall time for log lines, in milliseconds."""

import time


def ms_since(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter()`` reading), to 0.1 ms."""
    return round(1000.0 * (time.perf_counter() - started), 1)
