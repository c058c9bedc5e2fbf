import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as vst
from voxregen_core.chunking import plan_chunks
from voxregen_core.crossfade import stitch
from voxregen_core.errors import InvalidParamsError

CHUNK = vst.SAMPLES_PER_CHUNK
OVERLAP = vst.SAMPLES_PER_OVERLAP
STRIDE = vst.SAMPLES_PER_STRIDE
WINDOW = 4_800  # 100 ms windows for short-term power


def identity_chunks(x, plan):
    for span in plan.spans:
        yield x[span.start : span.stop]


def power_db(x):
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def window_power_db(x):
    """Power of consecutive 100 ms windows, in dB."""
    frames = x[: x.size // WINDOW * WINDOW].reshape(-1, WINDOW).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1))


@settings(max_examples=25)
@given(
    n_samples=st.one_of(
        st.sampled_from([1, CHUNK - 1, CHUNK, CHUNK + 1, 34 * 48_000]),
        st.integers(min_value=1, max_value=34 * 48_000),
    ),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    level=st.floats(min_value=1e-4, max_value=2.0),
)
def test_identity_generator_gives_back_the_input(n_samples, seed, level):
    x = (level * np.random.default_rng(seed).standard_normal(n_samples)).astype(np.float32)
    plan = plan_chunks(n_samples)
    y = stitch(identity_chunks(x, plan), plan)
    assert y.dtype == np.float32
    assert y.shape == (n_samples,)
    assert np.max(np.abs(y - x)) <= 1e-5


def test_identity_generator_gives_back_an_eight_minute_stem():
    n_samples = vst.MAX_INPUT_SAMPLES
    t = np.arange(n_samples) / 48_000
    x = (0.5 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 0.3 * t)).astype(np.float32)
    plan = plan_chunks(n_samples)
    y = stitch(identity_chunks(x, plan), plan)
    assert plan.chunks_total == 30
    assert y.shape == (n_samples,)
    assert np.max(np.abs(y - x)) <= 1e-5


def test_consumes_chunks_one_at_a_time():
    x = np.random.default_rng(0).standard_normal(3 * STRIDE).astype(np.float32)
    plan = plan_chunks(x.size)
    handed_out = []

    def chunks():
        for span in plan.spans:
            handed_out.append(span.index)
            yield x[span.start : span.stop]

    assert np.array_equal(stitch(chunks(), plan), x)
    assert handed_out == [0, 1, 2]


def two_chunk_overlap(a_tail, b_head):
    """Stitch a 2-chunk plan whose overlap holds ``a_tail`` then ``b_head``; return the overlap."""
    plan = plan_chunks(CHUNK + STRIDE)
    rng = np.random.default_rng(99)
    first = np.concatenate([rng.standard_normal(STRIDE), a_tail]).astype(np.float32)
    second = np.concatenate([b_head, rng.standard_normal(STRIDE)]).astype(np.float32)
    y = stitch([first, second], plan)
    return y[STRIDE : STRIDE + OVERLAP]


def noise(seed):
    return np.random.default_rng(seed).standard_normal(OVERLAP)


def test_uncorrelated_chunks_keep_their_power_across_the_overlap():
    overlap = two_chunk_overlap(noise(1), noise(2))
    assert np.all(np.abs(window_power_db(overlap)) <= 0.5)


@pytest.mark.parametrize("rho", [1.0, 0.9, 0.5])
def test_correlated_chunks_do_not_swell(rho):
    # b has unit power and correlation rho with a: two renders of the same passage.
    a = noise(1)
    b = rho * a + np.sqrt(1 - rho**2) * noise(2)
    windows_db = window_power_db(two_chunk_overlap(a, b))
    assert np.all(np.abs(windows_db) <= 0.5), windows_db.max()


def test_plain_sin_cos_would_have_swelled_by_3_db_on_the_same_signal():
    # The failure the compensation prevents: cos·a + sin·a peaks at sqrt(2) mid-overlap.
    a = noise(1)
    theta = 0.5 * np.pi * (np.arange(OVERLAP) + 0.5) / OVERLAP
    plain = (np.cos(theta) + np.sin(theta)) * a
    assert window_power_db(plain).max() > 2.9
    assert window_power_db(two_chunk_overlap(a, a)).max() < 0.5


def test_anti_correlated_chunks_do_not_blow_up():
    a = noise(1)
    overlap = two_chunk_overlap(a, -a)
    assert np.all(np.isfinite(overlap))
    assert np.all(window_power_db(overlap) <= window_power_db(a) + 1e-6)  # never a boost


def test_silent_overlap_stays_silent_and_a_silent_side_fades():
    silent = np.zeros(OVERLAP)
    assert np.all(two_chunk_overlap(silent, silent) == 0.0)
    fading_in = two_chunk_overlap(silent, np.ones(OVERLAP))
    theta = 0.5 * np.pi * (np.arange(OVERLAP) + 0.5) / OVERLAP
    assert np.allclose(fading_in, np.sin(theta), atol=1e-6)


def test_refuses_a_chunk_of_the_wrong_length():
    plan = plan_chunks(CHUNK + STRIDE)
    with pytest.raises(InvalidParamsError, match=r"chunk 1 has shape \(863999,\), expected"):
        stitch([np.zeros(CHUNK), np.zeros(CHUNK - 1)], plan)


def test_refuses_a_stereo_chunk():
    plan = plan_chunks(100)
    with pytest.raises(InvalidParamsError, match=r"chunk 0 has shape \(100, 2\)"):
        stitch([np.zeros((100, 2))], plan)


def test_refuses_too_few_or_too_many_chunks():
    plan = plan_chunks(CHUNK + STRIDE)
    with pytest.raises(InvalidParamsError, match="got 1 chunks, the plan has 2"):
        stitch([np.zeros(CHUNK)], plan)
    with pytest.raises(InvalidParamsError, match="more chunks than the plan's 2"):
        stitch([np.zeros(CHUNK)] * 3, plan)
