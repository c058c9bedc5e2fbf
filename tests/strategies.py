"""Shared Hypothesis strategies: render params, ids, hashes, storage keys and stem lengths."""

import hashlib

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
