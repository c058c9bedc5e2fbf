"""The line that sums up a render, the same for ``voxregen render`` and ``voxregen remote``:
the file written, the stem's duration, the delivery's loudness and true peak, the render's
time, from a job's metrics (their JSON form)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def summary_line(path: Path, metrics: Mapping[str, Any]) -> str:
    return (
        f"voxregen: wrote {path} ({metrics['input_duration_s']:.1f} s, "
        f"{_db(metrics['loudness_lufs'], 'LUFS')}, {_db(metrics['true_peak_db'], 'dBTP')}) "
        f"in {metrics['runtime_sec']:.2f} s"
        f"{', features from cache' if metrics['feature_cache_hit'] else ''}"
    )


def _db(value: float | None, unit: str) -> str:
    return f"{value:.2f} {unit}" if value is not None else f"silent (no {unit} reading)"
