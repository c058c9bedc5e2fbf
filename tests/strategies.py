"""Shared Hypothesis strategies: render params, ids, hashes, storage keys, stem lengths and
structured stems."""

import hashlib

import numpy as np
from hypothesis import strategies as st

from voxregen_core import keys, spec
from voxregen_core.params import Quality, RenderParams, Style

SAMPLES_PER_CHUNK = int(spec.CHUNK_S * spec.SAMPLE_RATE_HZ)
SAMPLES_PER_OVERLAP = int(spec.OVERLAP_S * spec.SAMPLE_RATE_HZ)
SAMPLES_PER_STRIDE = int(spec.STRIDE_S * spec.SAMPLE_RATE_HZ)
MAX_INPUT_SAMPLES = int(spec.MAX_INPUT_S * spec.SAMPLE_RATE_HZ)

uuids = st.uuids()
sha256_hex = st.binary(max_size=64).map(lambda data: hashlib.sha256(data).hexdigest())
feature_versions = st.integers(min_value=1, max_value=10**6).map(lambda number: f"v{number}")
chunk_indices = st.integers(min_value=0, max_value=10**6)
styles = st.sampled_from(Style)
qualities = st.sampled_from(Quality)
intensities = st.floats(min_value=0.0, max_value=1.0)


@st.composite
def render_params(draw: st.DrawFn) -> RenderParams:
    """Any valid params (the locked fields at their only value)."""
    return RenderParams(style=draw(styles), intensity=draw(intensities), quality=draw(qualities))


storage_keys = st.one_of(
    st.builds(keys.reference_key, uuids, uuids, uuids),
    st.builds(keys.job_input_key, uuids, uuids),
    st.builds(keys.chunk_key, uuids, uuids, chunk_indices),
    st.builds(keys.job_output_key, uuids, uuids),
    st.builds(keys.feature_cache_key, uuids, sha256_hex, feature_versions),
    st.builds(keys.job_upload_key, uuids, uuids),
    st.builds(keys.reference_upload_key, uuids, uuids, uuids),
)

chunk_counts = st.integers(min_value=1, max_value=30)
"""Chunk counts of stems up to the 8-minute limit (which needs 30 chunks)."""


@st.composite
def stem_samples_for_count(draw: st.DrawFn, chunks_total: int) -> int:
    """A stem length (samples, 48 kHz) that needs exactly ``chunks_total`` 18 s/2 s chunks.

    k chunks reach (k-1)·stride + chunk = k·stride + overlap samples, and the last chunk must
    hold more than the overlap: n > (k-1)·stride + overlap. One chunk covers 1..chunk samples.
    """
    if chunks_total == 1:
        return draw(st.integers(min_value=1, max_value=SAMPLES_PER_CHUNK))
    return draw(
        st.integers(
            min_value=(chunks_total - 1) * SAMPLES_PER_STRIDE + SAMPLES_PER_OVERLAP + 1,
            max_value=chunks_total * SAMPLES_PER_STRIDE + SAMPLES_PER_OVERLAP,
        )
    )


stem_samples = st.one_of(
    st.sampled_from(
        [
            1,
            SAMPLES_PER_CHUNK - 1,
            SAMPLES_PER_CHUNK,
            SAMPLES_PER_CHUNK + 1,
            2 * SAMPLES_PER_STRIDE + SAMPLES_PER_OVERLAP,
            2 * SAMPLES_PER_STRIDE + SAMPLES_PER_OVERLAP + 1,
            MAX_INPUT_SAMPLES,
        ]
    ),
    st.integers(min_value=1, max_value=MAX_INPUT_SAMPLES),
)
"""Stem lengths in samples (48 kHz) up to 8 minutes, with the chunking boundaries."""


STRUCTURED_RATE_HZ = 48_000
SEGMENT_KINDS = ("zeros", "tone", "noise", "impulses", "ramp", "denormal", "square", "dc")
"""What a structured stem is made of: exact digital silence (a DAW's gated or edited export),
tones, noise, isolated clicks, ramps, denormal-level values such as 1e-38, full-scale square
waves (hard clipping) and DC, each at a random level."""


def _segment(kind: str, n_samples: int, *, level_dbfs: float, seed: int) -> np.ndarray:
    """One float64 segment of ``n_samples`` at 48 kHz, peaking near ``level_dbfs``."""
    rng = np.random.default_rng(seed)
    peak = 10.0 ** (level_dbfs / 20.0)
    t = np.arange(n_samples) / STRUCTURED_RATE_HZ
    freq_hz = float(rng.uniform(40.0, 12_000.0))
    if kind == "zeros":
        return np.zeros(n_samples)
    if kind == "tone":
        return peak * np.sin(2.0 * np.pi * freq_hz * t + rng.uniform(0, 2 * np.pi))
    if kind == "noise":
        return np.clip(peak / 3.0 * rng.standard_normal(n_samples), -peak, peak)
    if kind == "impulses":
        clicks = np.zeros(n_samples)
        clicks[rng.integers(0, n_samples, size=max(1, n_samples // 24_000))] = peak
        return clicks
    if kind == "ramp":
        return np.linspace(rng.uniform(-peak, peak), rng.uniform(-peak, peak), n_samples)
    if kind == "denormal":
        return rng.choice([-1.0, 1.0], size=n_samples) * 10.0 ** rng.uniform(-38, -30, n_samples)
    if kind == "square":
        return np.where(np.sin(2.0 * np.pi * freq_hz * t) >= 0.0, 1.0, -1.0)  # full scale
    return np.full(n_samples, peak * rng.choice([-1.0, 1.0]))  # dc


@st.composite
def structured_stems(
    draw: st.DrawFn, *, min_s: float = 0.4, max_s: float = 60.0, max_segments: int = 8
) -> np.ndarray:
    """A mono float64 stem at 48 kHz, ``min_s`` to ``max_s`` long: a concatenation of
    segments (:data:`SEGMENT_KINDS`) at random levels (-100 to 0 dBFS) and lengths, the
    shapes a producer's exported vocal is made of, not only random noise."""
    n_total = draw(st.integers(int(min_s * STRUCTURED_RATE_HZ), int(max_s * STRUCTURED_RATE_HZ)))
    n_segments = draw(st.integers(1, max_segments))
    cuts = sorted(
        draw(
            st.lists(
                st.integers(1, n_total - 1),
                min_size=n_segments - 1,
                max_size=n_segments - 1,
                unique=True,
            )
        )
    )
    bounds = [0, *cuts, n_total]
    return np.concatenate(
        [
            _segment(
                draw(st.sampled_from(SEGMENT_KINDS)),
                stop - start,
                level_dbfs=draw(st.floats(-100.0, 0.0)),
                seed=draw(st.integers(0, 2**32 - 1)),
            )
            for start, stop in zip(bounds, bounds[1:], strict=False)
        ]
    )
