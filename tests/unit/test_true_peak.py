"""True peak against EBU Tech 3341, ideal band-limited interpolation and brute-force upfirdn."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.meters import reference_true_peak_dbtp
from tests.signals import sine
from voxregen_core import parallelism
from voxregen_core.errors import InvalidParamsError, NonFiniteSamplesError
from voxregen_core.true_peak import samples_over, true_peak_dbtp, true_peak_envelope

FS = 48_000


def faded(x: np.ndarray, *, fade_samples: int = 480) -> np.ndarray:
    """Raised-cosine fade in and out. An abrupt start is a step, and the band-limited
    reconstruction of a step overshoots (a DAC's would too): the test tones are about the tone."""
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade_samples) / fade_samples)
    out = np.array(x, dtype=np.float64)
    out[:fade_samples] *= ramp
    out[-fade_samples:] *= ramp[::-1]
    return out


@st.composite
def band_limited_signals(draw: st.DrawFn, max_hz: float = 18_000.0) -> np.ndarray:
    """A few faded sine bursts below ``max_hz`` over a little faded noise-free tone, 0.1–0.3 s."""
    n = draw(st.integers(min_value=4_800, max_value=14_400))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    t = np.arange(n) / FS
    x = np.zeros(n)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        freq = draw(st.floats(min_value=50.0, max_value=max_hz))
        amplitude = draw(st.floats(min_value=0.05, max_value=1.5))
        length = int(rng.integers(200, n))
        start = int(rng.integers(0, n - length + 1))
        burst = np.hanning(length) * np.sin(
            2 * np.pi * freq * t[:length] + rng.uniform(0, 2 * np.pi)
        )
        x[start : start + length] += amplitude * burst
    return x


@pytest.mark.parametrize(
    ("freq_hz", "phase_deg", "amplitude", "expected_dbtp", "tolerance"),
    [
        (FS / 4, 0.0, 0.5, -6.0, (-0.4, 0.2)),  # EBU Tech 3341 true-peak cases
        (FS / 4, 45.0, 0.5, -6.0, (-0.4, 0.2)),
        (FS / 6, 60.0, 0.5, -6.0, (-0.4, 0.2)),
        (FS / 8, 67.5, 0.5, -6.0, (-0.4, 0.2)),
        (FS / 4, 45.0, 1.41, 3.0, (-0.4, 0.2)),
    ],
)
def test_ebu_tech_3341_true_peak_cases(freq_hz, phase_deg, amplitude, expected_dbtp, tolerance):
    t = np.arange(FS) / FS
    x = faded(amplitude * np.sin(2 * np.pi * freq_hz * t + np.deg2rad(phase_deg)))
    reading = true_peak_dbtp(x, sample_rate_hz=FS, oversample=4)
    assert expected_dbtp + tolerance[0] <= reading <= expected_dbtp + tolerance[1]


def test_fs4_at_45_degrees_samples_sit_3_db_under_the_true_peak():
    t = np.arange(FS) / FS
    x = faded(1.41 * np.sin(2 * np.pi * FS / 4 * t + np.deg2rad(45.0)))
    sample_peak_db = 20 * np.log10(np.abs(x).max())
    assert true_peak_dbtp(x, sample_rate_hz=FS) - sample_peak_db == pytest.approx(3.01, abs=0.02)


def test_a_20_khz_sine_under_reads_by_less_than_half_a_db_at_4x():
    x = faded(sine(20_000, peak_dbfs=-6.0, duration_s=1.0, phase_deg=10.0))
    assert -6.5 < true_peak_dbtp(x, sample_rate_hz=FS, oversample=4) <= -6.0 + 0.01


# Frequencies that do not divide the rate, so over a second the crests sweep across the 4x grid
# and the reading measures the filter's gain, not where the grid happens to fall.
@pytest.mark.parametrize("freq_hz", [1_003.0, 2_511.0, 5_023.0, 7_993.0, 11_987.0])
def test_passband_gain_is_unity_from_1_to_12_khz(freq_hz):
    x = faded(sine(freq_hz, peak_dbfs=-6.0, duration_s=1.0, phase_deg=20.0))
    assert true_peak_dbtp(x, sample_rate_hz=FS, oversample=4) == pytest.approx(-6.0, abs=0.02)


@settings(max_examples=25)
@given(x=band_limited_signals())
def test_agrees_with_ideal_band_limited_interpolation(x):
    ours = true_peak_dbtp(x, sample_rate_hz=FS, oversample=4)
    reference = reference_true_peak_dbtp(x, fs=FS)
    # A 4x grid under-reads content at 18 kHz by at most 0.38 dB; the FIR adds < 0.01 dB.
    assert reference - 0.4 <= ours <= reference + 0.01


@settings(max_examples=25)
@given(x=band_limited_signals(max_hz=23_000.0), oversample=st.sampled_from([2, 4, 8]))
def test_skipping_blocks_gives_exactly_the_answer_of_oversampling_everything(x, oversample):
    x = np.concatenate([x * 0.01, x, x * 0.3])  # quiet blocks the search can skip
    everything = float(true_peak_envelope(x, oversample=oversample, above=0.0).max())
    # The same sums, but BLAS may add them in another order for another batch of blocks: equal
    # to float32 rounding (1e-7 relative, 1e-6 dB), not bit for bit.
    assert true_peak_dbtp(x, sample_rate_hz=FS, oversample=oversample) == pytest.approx(
        20 * np.log10(everything), abs=1e-5
    )


def test_envelope_equals_brute_force_upfirdn_with_the_documented_filter():
    # Kaiser-windowed sinc (beta 7), 32 taps per phase, cutoff at the base Nyquist frequency.
    oversample, taps_per_phase = 4, 32
    h = oversample * scipy.signal.firwin(
        oversample * taps_per_phase + 1, 1 / oversample, window=("kaiser", 7.0), scale=False
    )
    x = np.random.default_rng(5).standard_normal(3_000) * 0.3
    centres = (np.arange(x.size) + 100) * oversample + h.size // 2
    offsets = np.arange(-(oversample // 2), oversample // 2 + 1)

    def brute_force(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = scipy.signal.upfirdn(h, np.concatenate([before, x, after]), up=oversample)
        return y, np.abs(y[centres[:, None] + offsets[None, :]]).max(axis=1)

    # zeros past the ends (ideal reconstruction), and the signal mirrored about its end
    # samples (x[-k] = x[k], libswresample's view): the larger counts
    y, zeros_past = brute_force(np.zeros(100), np.zeros(100))
    _, mirrored_past = brute_force(x[1:101][::-1], x[-101:-1][::-1])
    envelope = true_peak_envelope(x, oversample=oversample)
    expected = np.maximum(zeros_past, mirrored_past)
    np.testing.assert_allclose(envelope[1:-1], expected[1:-1], rtol=0, atol=2e-6)
    assert not np.allclose(zeros_past[:16], mirrored_past[:16], atol=1e-3)  # the views differ
    np.testing.assert_allclose(zeros_past[32:-32], mirrored_past[32:-32], rtol=0, atol=1e-6)
    # the ends also take the interpolation's lead-in and tail
    lead = max(np.abs(y[: centres[0] + 3]).max(), mirrored_past[0])
    tail = max(np.abs(y[centres[-1] - 2 :]).max(), mirrored_past[-1])
    assert envelope[0] == pytest.approx(lead, abs=2e-6)
    assert envelope[-1] == pytest.approx(tail, abs=2e-6)


def test_envelope_is_abs_x_where_no_block_can_exceed_the_threshold():
    quiet = 0.01 * np.random.default_rng(6).standard_normal(4_096)
    loud = faded(sine(3_000, peak_dbfs=-1.0, duration_s=0.1))
    x = np.concatenate([quiet, loud, quiet]).astype(np.float32)
    envelope = true_peak_envelope(x, oversample=4, above=0.5)
    np.testing.assert_array_equal(envelope[1:2048], np.abs(x[1:2048]))
    assert envelope.max() == pytest.approx(10 ** (-1 / 20), abs=0.005)
    assert envelope.dtype == np.float32


def test_envelope_of_a_stretch_reads_the_context_around_it():
    x = np.random.default_rng(7).standard_normal(10_000) * 0.2
    whole = true_peak_envelope(x, oversample=8)
    # BLAS may sum another batch of blocks in another order (it depends on the CPU's kernels):
    # equal to float32 rounding.
    np.testing.assert_allclose(
        true_peak_envelope(x, oversample=8, start=3_000, stop=7_001),
        whole[3_000:7_001],
        rtol=1e-6,
        atol=0,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
@pytest.mark.parametrize("tail_samples", [0, 1, 31, 32, 591])
def test_samples_over_are_where_the_envelope_exceeds_the_threshold(dtype, tail_samples):
    """Hard cuts at both ends (the lead-in, the tail and the mirrored views count), a burst of
    inter-sample peaks (fs/4 at 45 degrees) inside, quiet blocks between them, and a length that
    is no whole number of blocks."""
    rng = np.random.default_rng(8)
    burst = np.tile(np.float32([1.0, 1.0, -1.0, -1.0]) * 0.6, 64)
    x = np.concatenate(
        [
            0.7 * np.ones(300),
            0.01 * rng.standard_normal(5_000),
            burst,
            0.01 * rng.standard_normal(6_692 + tail_samples),
            0.7 * np.tile([1.0, 1.0, -1.0, -1.0], 10),  # read mirrored as well as zero-padded
        ]
    )
    if dtype == np.int16:
        x = np.round(x * 32768).astype(np.int16)
    above = 0.74
    envelope = true_peak_envelope(x, oversample=8, above=above)
    positions, peaks = samples_over(x, oversample=8, above=above)
    expected = np.flatnonzero(envelope > above)
    # both ends (the last block's tail_samples too short for the mirrored tail) and the burst
    assert {0, 5_300, x.shape[0] - 1} <= set(expected.tolist())
    assert x.shape[0] % 1024 == tail_samples
    np.testing.assert_array_equal(positions, expected)
    np.testing.assert_allclose(peaks, envelope[expected], rtol=1e-6, atol=0)
    assert positions.dtype == np.int64 and peaks.dtype == np.float32


def test_samples_over_do_not_depend_on_the_core_count_across_searches(monkeypatch):
    """Blocks are searched 2048 at a time (2,097,152 samples): inter-sample peaks on both sides
    of that edge, found alike on 1 core or 3."""
    x = np.zeros(2_200_000, np.float32)
    burst = np.tile(np.float32([1.0, 1.0, -1.0, -1.0]) * 0.6, 32)
    for start in (2_097_152 - 200, 2_097_152 + 72, 1_000_000):
        x[start : start + burst.size] = burst
    envelope = true_peak_envelope(x, oversample=8, above=0.74)
    expected = np.flatnonzero(envelope > 0.74)
    answers = []
    for cores in (1, 3):
        monkeypatch.setattr(parallelism, "usable_cores", lambda cores=cores: cores)
        answers.append(samples_over(x, oversample=8, above=0.74))
    for positions, peaks in answers:
        np.testing.assert_array_equal(positions, expected)
        np.testing.assert_array_equal(peaks, answers[0][1])
    assert (expected < 2_097_152).any() and (expected >= 2_097_152).any()


def test_no_sample_is_over_in_silence_or_an_empty_signal():
    for x in (np.zeros(5_000, np.float32), np.zeros(0, np.float32)):
        positions, peaks = samples_over(x, oversample=8, above=0.0)
        assert positions.shape == peaks.shape == (0,)


def test_int16_is_read_as_pcm_and_channels_take_the_louder():
    x = faded(sine(1_000, peak_dbfs=-6.0, duration_s=0.5))
    pcm16 = np.round(x * 32768).astype(np.int16)
    assert true_peak_dbtp(pcm16, sample_rate_hz=FS) == pytest.approx(-6.0, abs=0.01)
    stereo = np.stack([x * 0.5, x], axis=1)
    assert true_peak_dbtp(stereo, sample_rate_hz=FS) == true_peak_dbtp(x, sample_rate_hz=FS)


@pytest.mark.parametrize("x", [np.zeros(5_000), np.zeros(0), np.zeros((100, 2), np.int16)])
def test_silence_reads_minus_infinity(x):
    assert true_peak_dbtp(x, sample_rate_hz=FS) == float("-inf")


def test_non_finite_samples_are_refused():
    x = np.zeros(50_000)
    x[40_000] = np.inf
    with pytest.raises(NonFiniteSamplesError, match="NaN or infinite"):
        true_peak_dbtp(x, sample_rate_hz=FS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: true_peak_dbtp(np.zeros(8), sample_rate_hz=FS, oversample=1), "oversample"),
        (
            lambda: true_peak_dbtp(np.ones(8), sample_rate_hz=FS, oversample=3),
            r"oversample must be an even integer in \[2, 32\], got 3",
        ),
        (lambda: true_peak_envelope(np.ones(8), oversample=5), "even integer"),
        (lambda: true_peak_dbtp(np.zeros(8), sample_rate_hz=0), "sample_rate_hz"),
        (lambda: true_peak_dbtp(np.zeros(8, np.int32), sample_rate_hz=FS), "dtype int32"),
        (lambda: true_peak_envelope(np.zeros((8, 2)), oversample=4), "1-D"),
        (lambda: true_peak_envelope(np.zeros(8), oversample=4, start=5, stop=2), "start, stop"),
    ],
)
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(InvalidParamsError, match=message):
        call()
