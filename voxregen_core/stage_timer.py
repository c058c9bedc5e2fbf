"""``StageTimer``: wall time per named render stage, in milliseconds.

The core never logs; it times its stages and returns the laps (``RenderMetrics.stage_ms``),
and the adapters log them.
"""

import time


class StageTimer:
    """Wall time per named stage, in milliseconds."""

    def __init__(self) -> None:
        self.stage_ms: dict[str, float] = {}
        self._started = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stage_ms[stage] = self.stage_ms.get(stage, 0.0) + 1000.0 * (now - self._started)
        self._started = now

    @property
    def total_s(self) -> float:
        return sum(self.stage_ms.values()) / 1000.0
