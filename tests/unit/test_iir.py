"""The block-matrix IIR filter against SciPy's sosfilt, on the cascades the render runs."""

import itertools

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.signals import synthetic_singing
from tests.strategies import structured_stems
from voxregen_core import iir, mastering, stub_generator
from voxregen_core.errors import InvalidParamsError
from voxregen_core.loudness import k_weighting_sos
from voxregen_core.params import Style

FS = 48_000
BAND_LIMIT = np.vstack([mastering._high_pass_sos(), mastering._LOW_PASS_SOS])
K_WEIGHTING = k_weighting_sos(sample_rate_hz=FS)
WARM_EQ = np.stack(
    [
        stub_generator._biquad(band, gain_db=band.gain_db)
        for band in stub_generator.EQ_BANDS[Style.WARM]
    ]
)
CASCADES = {"band limit": BAND_LIMIT, "K-weighting": K_WEIGHTING, "warm EQ": WARM_EQ}


def reference(sos: np.ndarray, x: np.ndarray, level: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """sosfilt in float64 from the steady state of ``level``."""
    return scipy.signal.sosfilt(sos, x.astype(np.float64), zi=scipy.signal.sosfilt_zi(sos) * level)


def assert_close(y: np.ndarray, expected: np.ndarray, x: np.ndarray) -> None:
    """Within a few float32 roundings of the signal's largest sample (the block products are
    float32): 5e-7 of it, -126 dB."""
    scale = max(float(np.abs(x).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(y, expected, rtol=0, atol=5e-7 * scale)


def assert_same_state(state: np.ndarray, expected: np.ndarray, x: np.ndarray) -> None:
    """sosfilt's final state (its layout is the cascade's) within 5e-8 of the signal's largest
    sample: the states sum a whole stream's inputs through matrix powers (measured: 1e-8)."""
    scale = max(float(np.abs(x).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(state, expected.ravel(), rtol=0, atol=5e-8 * scale)


@pytest.mark.parametrize("name", CASCADES)
@pytest.mark.parametrize(
    "n", [1, 2, 127, 128, 129, 4095, 4096, 4097, 50_000, 65_536, 65_537, 131_072, 140_000]
)
def test_matches_sosfilt_across_block_group_and_piece_edges(name, n):
    sos = CASCADES[name]
    x = synthetic_singing(3.0, seed=n).audio[:n].astype(np.float32) + np.float32(0.05)  # DC
    cascade = iir.cascade(sos)
    y, state = cascade.filter(x, cascade.steady_state(0.05))
    expected, expected_state = reference(sos, x, 0.05)
    assert y.shape == (n,) and y.dtype == np.float32
    assert_close(y, expected, x)
    assert_same_state(state, expected_state, x)
    # the state carries on: the rest of a stream filtered from it is the stream filtered whole
    rest = synthetic_singing(0.2, seed=n + 1).audio.astype(np.float32)
    after, _ = cascade.filter(rest, state)
    whole, _ = reference(sos, np.concatenate([x, rest]), 0.05)
    assert_close(after, whole[n:], np.concatenate([x, rest]))


@settings(max_examples=25, deadline=None)
@given(
    x=structured_stems(min_s=0.01, max_s=3.0),
    name=st.sampled_from(list(CASCADES)),
    cuts=st.lists(st.floats(0.0, 1.0), max_size=4),
)
def test_any_split_of_a_structured_stem_gives_sosfilts_output(x, name, cuts):
    """Silence, tones, clicks, ramps, full-scale squares and DC in pieces cut anywhere: each
    piece from the state the previous one left is the one-pass float64 output."""
    sos = CASCADES[name]
    cascade = iir.cascade(sos)
    x = x.astype(np.float32)
    bounds = [0, *sorted(round(c * x.shape[0]) for c in cuts), x.shape[0]]
    state = np.zeros(cascade.n_states)
    pieces = []
    for start, stop in itertools.pairwise(bounds):
        piece, state = cascade.filter(x[start:stop], state)
        pieces.append(piece)
    expected, expected_state = reference(sos, x)
    assert_close(np.concatenate(pieces), expected, x)
    assert_same_state(state, expected_state, x)


def test_a_reversed_view_and_float64_are_read_as_float32():
    """The band limit's backward pass filters ``audio[::-1]``; float64 samples are rounded."""
    x = synthetic_singing(0.5, seed=6).audio
    cascade = iir.cascade(BAND_LIMIT)
    at_rest = np.zeros(cascade.n_states)
    backward, _ = cascade.filter(x.astype(np.float32)[::-1], at_rest)
    np.testing.assert_array_equal(
        backward, cascade.filter(x.astype(np.float32)[::-1].copy(), at_rest)[0]
    )
    np.testing.assert_array_equal(
        cascade.filter(x, at_rest)[0], cascade.filter(x.astype(np.float32), at_rest)[0]
    )


def test_digital_silence_from_rest_stays_exactly_silent():
    x = np.zeros(10_000, np.float32)
    x[6_000:] = synthetic_singing(0.1, seed=2).audio[:4_000]
    cascade = iir.cascade(BAND_LIMIT)
    y, _ = cascade.filter(x, np.zeros(cascade.n_states))
    assert not y[:6_000].any()
    assert y[6_000:].any()


@pytest.mark.parametrize("name", CASCADES)
def test_the_steady_state_is_sosfilt_zis_and_holds_a_constant(name):
    sos = CASCADES[name]
    cascade = iir.cascade(sos)
    state = cascade.steady_state(-0.3)
    np.testing.assert_allclose(state, (scipy.signal.sosfilt_zi(sos) * -0.3).ravel(), atol=1e-9)
    y, after = cascade.filter(np.full(5_000, -0.3, np.float32), state)
    dc_gain = np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1))
    np.testing.assert_allclose(y, -0.3 * dc_gain, atol=1e-6)
    np.testing.assert_allclose(after, state, atol=1e-7)  # float32's -0.3 is not float64's


def test_an_empty_input_leaves_the_state_as_it_was_in_a_new_array():
    cascade = iir.cascade(K_WEIGHTING)
    state = cascade.steady_state(0.5)
    y, after = cascade.filter(np.zeros(0, np.float32), state)
    assert y.shape == (0,)
    np.testing.assert_array_equal(after, state)
    after[:] = 0.0
    assert state.any()  # the caller's array is not the one returned


def test_the_shared_matrices_are_read_only():
    """A cascade is cached and shared by every caller: none can change another's filter."""
    cascade = iir.cascade(K_WEIGHTING)
    assert iir.cascade(K_WEIGHTING.copy()) is cascade
    with pytest.raises(ValueError, match="read-only"):
        cascade.block_impulse[0, 0] = 1.0


@pytest.mark.parametrize(
    ("sos", "message"),
    [
        (np.zeros((0, 6)), "n_sections >= 1"),
        (np.ones((2, 5)), "n_sections >= 1"),
        (np.array([[1.0, 0.0, 0.0, 2.0, 0.0, 0.0]]), "a0 = 1"),
    ],
)
def test_sections_other_than_normalized_ones_are_refused(sos, message):
    with pytest.raises(InvalidParamsError, match=message):
        iir.cascade(sos)


def test_a_signal_or_state_of_another_shape_is_refused():
    cascade = iir.cascade(K_WEIGHTING)
    with pytest.raises(InvalidParamsError, match="shape"):
        cascade.filter(np.zeros((10, 2), np.float32), np.zeros(cascade.n_states))
    with pytest.raises(InvalidParamsError, match="shape"):
        cascade.filter(np.zeros(10, np.float32), np.zeros((2, 2)))


def test_int16_samples_are_read_as_their_values():
    x = (synthetic_singing(0.5, seed=4).audio * 20_000).astype(np.int16)
    cascade = iir.cascade(K_WEIGHTING)
    y, _ = cascade.filter(x, np.zeros(cascade.n_states))
    assert_close(y, reference(K_WEIGHTING, x)[0], x)


def test_the_render_uses_the_filters_scipy_designs():
    """The band limit's tabulated sections are SciPy's designs, to rounding."""
    np.testing.assert_allclose(
        mastering._LOW_PASS_SOS,
        scipy.signal.ellip(7, 0.01, 60.0, 20_000.0, fs=FS, output="sos"),
        rtol=1e-13,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        mastering._high_pass_sos(),
        scipy.signal.butter(2, 5.0, btype="highpass", fs=FS, output="sos"),
        rtol=1e-11,
    )
