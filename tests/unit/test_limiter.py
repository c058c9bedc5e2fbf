"""The true-peak limiter on adversarial signals, checked with the ideal-interpolation reference
meter (and ffmpeg where its meter is trustworthy: not on tones near fs/4, which it over-reads)."""

import math

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.meters import ffmpeg_ebur128_array, reference_true_peak_dbtp
from tests.signals import sine
from voxregen_core.errors import InvalidParamsError
from voxregen_core.limiter import LimiterResult, limit_true_peak
from voxregen_core.true_peak import true_peak_dbtp

FS = 48_000
CEILING_DBTP = -1.0
LOOKAHEAD_SAMPLES = 96  # the default 2 ms at 48 kHz


def raised_cosine_window(n: int, *, edge: int) -> np.ndarray:
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
    window = np.ones(n)
    window[:edge], window[-edge:] = ramp, ramp[::-1]
    return window


def with_bursts(base: np.ndarray, burst: np.ndarray, starts: list[int]) -> np.ndarray:
    x = base.copy()
    for start in starts:
        x[start : start + burst.size] += burst
    return x


def quiet_tone(level_dbfs: float, *, seconds: float = 2.0) -> np.ndarray:
    return sine(440, peak_dbfs=level_dbfs, duration_s=seconds) * raised_cosine_window(
        round(seconds * FS), edge=480
    )


def limited(x: np.ndarray, **kwargs) -> LimiterResult:
    return limit_true_peak(x, sample_rate_hz=FS, ceiling_dbtp=CEILING_DBTP, **kwargs)


def test_fs4_pattern_bursts_whose_samples_stay_under_the_ceiling_are_caught():
    # [+A, +A, -A, -A] is a 12 kHz sine at 45°: its true peak is 3 dB above its samples.
    pattern = 0.8 * np.tile([1.0, 1.0, -1.0, -1.0], 240) * raised_cosine_window(960, edge=96)
    x = with_bursts(quiet_tone(-40), pattern, [10_000, 40_000, 70_000])
    assert 20 * np.log10(np.abs(x).max()) < CEILING_DBTP < reference_true_peak_dbtp(x, fs=FS)
    result = limited(x)
    assert reference_true_peak_dbtp(result.audio, fs=FS) <= CEILING_DBTP
    assert result.max_gain_reduction_db > 2.0


def test_3khz_hann_bursts_on_a_minus_40_dbfs_tone():
    burst = 1.6 * np.hanning(480) * np.sin(2 * np.pi * 3_000 * np.arange(480) / FS)
    x = with_bursts(quiet_tone(-40), burst, [5_000, 30_000, 60_000])
    result = limited(x)
    assert reference_true_peak_dbtp(result.audio, fs=FS) <= CEILING_DBTP
    assert ffmpeg_ebur128_array(result.audio, fs=FS).true_peak_dbtp <= CEILING_DBTP
    assert result.max_gain_reduction_db == pytest.approx(20 * np.log10(1.6) - CEILING_DBTP, abs=0.3)


def test_full_scale_square_wave():
    t = np.arange(2 * FS) / FS
    x = np.sign(np.sin(2 * np.pi * 1_000 * t + 0.1))
    result = limited(x)
    assert reference_true_peak_dbtp(result.audio, fs=FS) <= CEILING_DBTP
    assert ffmpeg_ebur128_array(result.audio, fs=FS).true_peak_dbtp <= CEILING_DBTP


def test_dc_offset_on_a_tone_counts_towards_the_peak():
    x = 0.6 + quiet_tone(-6.0)  # peaks at 1.1: the limiter sees the DC too
    result = limited(x)
    assert reference_true_peak_dbtp(result.audio, fs=FS) <= CEILING_DBTP
    assert ffmpeg_ebur128_array(result.audio, fs=FS).true_peak_dbtp <= CEILING_DBTP


def test_sparse_transients_over_a_low_noise_floor_leave_the_floor_between_them_untouched():
    rng = np.random.default_rng(11)
    x = rng.standard_normal(10 * FS) * 10 ** (-70 / 20)
    for position in (FS // 2, FS // 2 + 3, 19 * FS // 2):
        x[position] = 0.95
    result = limited(x)
    assert reference_true_peak_dbtp(result.audio, fs=FS) <= CEILING_DBTP
    far_from_any = slice(int(3.5 * FS), int(6.5 * FS))
    np.testing.assert_array_equal(result.audio[far_from_any], x[far_from_any].astype(np.float32))


def test_very_quiet_speech_like_signal_comes_back_unchanged():
    t = np.arange(3 * FS) / FS
    syllables = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2
    x = (0.02 * syllables * sine(180, peak_dbfs=0, duration_s=3.0)).astype(np.float32)
    result = limited(x)
    np.testing.assert_array_equal(result.audio, x)
    assert result.max_gain_reduction_db == 0.0


def test_attack_starts_within_the_lookahead_and_ramps_smoothly():
    burst_start = 20_000
    burst = (
        2.0
        * raised_cosine_window(2_400, edge=24)
        * np.sin(2 * np.pi * 1_000 * np.arange(2_400) / FS)
    )
    x = with_bursts(sine(100, peak_dbfs=-30, duration_s=1.0, phase_deg=90.0), burst, [burst_start])
    x = x.astype(np.float32)
    result = limited(x)
    gain = result.audio.astype(np.float64) / x
    before = slice(0, burst_start - LOOKAHEAD_SAMPLES - 16)  # 16: the interpolation filter's reach
    np.testing.assert_array_equal(gain[before], 1.0)
    attack = gain[burst_start - LOOKAHEAD_SAMPLES - 16 : burst_start + 24]
    assert np.all(np.diff(attack) <= 1e-6)  # only ever going down
    assert np.abs(np.diff(attack)).max() < 0.05  # spread over the look-ahead, not a step


def test_release_decays_exponentially_with_the_release_time():
    burst = 1.5 * np.hanning(480) * np.sin(2 * np.pi * 1_000 * np.arange(480) / FS)
    x = with_bursts(sine(100, peak_dbfs=-30, duration_s=1.0, phase_deg=90.0), burst, [10_000])
    x = x.astype(np.float32)
    result = limited(x, release_ms=50.0)
    reduction_db = -20 * np.log10(result.audio.astype(np.float64) / x)
    first, tau = 10_000 + 480 + 2 * LOOKAHEAD_SAMPLES, round(0.05 * FS)
    assert reduction_db[first + tau] / reduction_db[first] == pytest.approx(math.exp(-1), rel=1e-3)
    assert reduction_db[first + 2 * tau] / reduction_db[first] == pytest.approx(
        math.exp(-2), rel=1e-3
    )


@st.composite
def band_limited_signals(draw: st.DrawFn) -> np.ndarray:
    """Faded sine bursts below 20 kHz over a quiet tone, up to 12 dB over full scale, 0.2–0.5 s."""
    n = draw(st.integers(min_value=9_600, max_value=24_000))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    x = 0.01 * np.sin(2 * np.pi * 200 * np.arange(n) / FS) * raised_cosine_window(n, edge=480)
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        freq = draw(st.floats(min_value=40.0, max_value=20_000.0))
        amplitude = draw(st.floats(min_value=0.1, max_value=4.0))
        length = int(rng.integers(100, n // 2))
        start = int(rng.integers(0, n - length))
        phase = rng.uniform(0, 2 * np.pi)
        x[start : start + length] += (
            amplitude
            * np.hanning(length)
            * np.sin(2 * np.pi * freq * np.arange(length) / FS + phase)
        )
    return x


@settings(max_examples=30)
@given(
    x=band_limited_signals(),
    ceiling_dbtp=st.floats(min_value=-12.0, max_value=0.0),
    oversample=st.sampled_from([4, 8, 16]),
)
def test_never_lets_a_true_peak_over_the_ceiling(x, ceiling_dbtp, oversample):
    result = limit_true_peak(x, sample_rate_hz=FS, ceiling_dbtp=ceiling_dbtp, oversample=oversample)
    assert reference_true_peak_dbtp(result.audio, fs=FS) <= ceiling_dbtp


@settings(max_examples=30)
@given(x=band_limited_signals(), ceiling_dbtp=st.floats(min_value=-12.0, max_value=0.0))
def test_does_not_touch_a_signal_already_under_the_ceiling(x, ceiling_dbtp):
    # Under by more than the 8x detector's grid allowance (0.17 dB) plus its filter's (0.01 dB).
    x = x * 10 ** ((ceiling_dbtp - 0.2 - reference_true_peak_dbtp(x, fs=FS)) / 20)
    result = limit_true_peak(x, sample_rate_hz=FS, ceiling_dbtp=ceiling_dbtp)
    np.testing.assert_array_equal(result.audio, x.astype(np.float32))
    assert result.max_gain_reduction_db == 0.0


def test_input_is_not_changed_and_output_is_float32_of_the_same_length():
    x = with_bursts(quiet_tone(-20, seconds=0.5), np.full(50, 1.2), [4_000])
    before = x.copy()
    result = limited(x)
    np.testing.assert_array_equal(x, before)
    assert result.audio.dtype == np.float32 and result.audio.shape == x.shape


def test_empty_input_gives_empty_output():
    result = limited(np.zeros(0, np.float32))
    assert result.audio.shape == (0,) and result.max_gain_reduction_db == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ceiling_dbtp": math.inf}, "ceiling_dbtp"),
        ({"lookahead_ms": 0.0}, "lookahead_ms"),
        ({"release_ms": 5_000.0}, "release_ms"),
        ({"oversample": 2}, "oversample"),
        ({"sample_rate_hz": -1}, "sample_rate_hz"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    kwargs = {"sample_rate_hz": FS, "ceiling_dbtp": CEILING_DBTP, **kwargs}
    with pytest.raises(InvalidParamsError, match=message):
        limit_true_peak(np.zeros(100, np.float32), **kwargs)


def test_multichannel_input_is_refused():
    with pytest.raises(InvalidParamsError, match="1-D"):
        limited(np.zeros((100, 2)))


@pytest.mark.parametrize("oversample", [4, 8, 16])
def test_a_ceiling_on_the_grid_is_reached_on_that_grid_and_not_passed(oversample):
    """``ceiling_on_grid`` takes no allowance for the grid's under-reading: an FFT meter on the
    detector's grid reads the limited peaks at the ceiling (within the aim and the filter's
    allowance), where the default stays its grid allowance under it."""
    rng = np.random.default_rng(oversample)
    x = quiet_tone(-30, seconds=3.0)
    low_pass = scipy.signal.butter(8, 16_000, fs=FS, output="sos")  # the limiter's domain
    for start in range(20_000, 130_000, 15_000):
        burst = 0.9 * rng.standard_normal(240) * np.exp(-np.arange(240) / 40)
        x[start : start + 240] += scipy.signal.sosfilt(low_pass, burst)
    on_grid = limited(x, oversample=oversample, ceiling_on_grid=True)
    allowed = limited(x, oversample=oversample)
    grid_dbtp = reference_true_peak_dbtp(on_grid.audio, fs=FS, oversample=oversample)
    assert CEILING_DBTP - 0.01 <= grid_dbtp <= CEILING_DBTP
    allowance_db = -20 * math.log10(1 - (math.pi / (2 * oversample)) ** 2 / 2)
    allowed_dbtp = reference_true_peak_dbtp(allowed.audio, fs=FS, oversample=oversample)
    assert allowed_dbtp <= CEILING_DBTP - allowance_db + 0.001


@pytest.mark.parametrize("tail_samples", [1, 17, 31])
def test_a_stem_ending_on_a_cut_through_peaks_stays_under_the_ceiling(tail_samples):
    """The last 60 samples an fs/4 pattern cut off mid-cycle, in a last block too short to hold
    the mirrored tail's reach (32 samples): the ends count as the meters read them, on the 8x
    grid the limiter holds."""
    rng = np.random.default_rng(tail_samples)
    x = (0.01 * rng.standard_normal(4 * 1024 + tail_samples)).astype(np.float32)
    x[-60:] = np.tile(np.float32([1.0, 1.0, -1.0, -1.0]), 15) * np.float32(0.9)
    x[-1] = np.float32(-0.3)
    result = limited(x, oversample=8, ceiling_on_grid=True)
    assert result.max_gain_reduction_db > 2.0
    assert true_peak_dbtp(result.audio, sample_rate_hz=FS, oversample=8) <= CEILING_DBTP
