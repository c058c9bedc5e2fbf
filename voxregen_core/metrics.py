"""What a render measured about itself; stored on the job as ``render_jobs.metrics``.

The first five names are the brief's (``runtime_sec``, ``rtf_estimate``, ``chunks_total``,
``true_peak_db``, ``loudness_lufs``); the rest follow the house style's unit suffixes.
"""

from typing import Any

import attrs


@attrs.frozen
class RenderMetrics:
    runtime_sec: float
    """Wall time of the whole render: decode to export in one process (``voxregen render``);
    in the service, from the first attempt's start to the output's upload, across workers."""
    rtf_estimate: float
    """Real-time factor: runtime_sec / input duration (below 1 is faster than real time)."""
    chunks_total: int
    true_peak_db: float | None
    """True peak of the delivered file in dBTP (4x oversampling); None for digital silence."""
    loudness_lufs: float | None
    """Integrated loudness of the delivered stereo file; None when gated out (silence)."""
    input_duration_s: float
    gain_db: float
    """Loudness gain applied before the limiter."""
    limiter_gain_reduction_db: float
    """Deepest gain reduction the true-peak limiter applied."""
    f0_p50_hz: float | None
    f0_p90_hz: float | None
    voiced_pct: float
    feature_cache_hit: bool
    chunks_reused: int
    """Chunks found already stored by an earlier attempt (a resumed job) and not regenerated."""
    stage_ms: dict[str, float]
    """Wall time per stage: decode, features, chunks, stitch, master, export in one process;
    in the service, the delivering worker's stitch, master, export and upload (the earlier
    stages ran in other messages and are in the worker's log lines)."""

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)
