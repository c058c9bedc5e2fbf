"""What a render measured about itself; stored on the job as ``render_jobs.metrics``.

:class:`RenderMetrics` is the record; :func:`render_metrics` builds it from a render's chunk
plan, features and mastering result. The first five names are the brief's (``runtime_sec``,
``rtf_estimate``, ``chunks_total``, ``true_peak_db``, ``loudness_lufs``); the rest follow the
house style's unit suffixes.
"""

from typing import Any

import attrs

from voxregen_core import spec
from voxregen_core.chunking import ChunkPlan
from voxregen_core.features import Features
from voxregen_core.mastering import MasterResult


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


def render_metrics(
    plan: ChunkPlan,
    features: Features,
    mastered: MasterResult,
    *,
    runtime_s: float,
    feature_cache_hit: bool,
    chunks_reused: int,
    stage_ms: dict[str, float],
) -> RenderMetrics:
    """The metrics stored on a finished job."""
    duration_s = plan.n_samples / spec.SAMPLE_RATE_HZ
    f0_stats = features.f0_stats()
    return RenderMetrics(
        runtime_sec=round(runtime_s, 3),
        rtf_estimate=round(runtime_s / duration_s, 4),
        chunks_total=plan.chunks_total,
        true_peak_db=_rounded(mastered.true_peak_dbtp),
        loudness_lufs=_rounded(mastered.loudness_lufs),
        input_duration_s=round(duration_s, 3),
        gain_db=round(mastered.gain_db, 3),
        limiter_gain_reduction_db=round(mastered.limiter_gain_reduction_db, 3),
        f0_p50_hz=_rounded(f0_stats["f0_p50_hz"]),
        f0_p90_hz=_rounded(f0_stats["f0_p90_hz"]),
        voiced_pct=round(f0_stats["voiced_pct"], 2),
        feature_cache_hit=feature_cache_hit,
        chunks_reused=chunks_reused,
        stage_ms={stage: round(ms, 1) for stage, ms in stage_ms.items()},
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
