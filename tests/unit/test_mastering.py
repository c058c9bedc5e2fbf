"""master(): the delivered dual-mono WAV, measured by ffmpeg and the FFT-interpolation meter.

The ceiling holds, and is used, on the meters a delivery is judged by: ffmpeg's ebur128 (4x)
and an 8x FFT reference: no reading above -1.0 dBTP and, where the limiter works, none more than
USED_WITHIN_DB under it."""

import numpy as np
import pytest
import scipy.signal

from tests.meters import ffmpeg_ebur128, reference_true_peak_dbtp
from tests.signals import noise_bursts_over_a_quiet_tone, sine, synthetic_singing
from voxregen_core import mastering, parallelism
from voxregen_core.errors import EmptyInputError, InvalidParamsError, NonFiniteSamplesError
from voxregen_core.export import encode_dual_mono_wav16
from voxregen_core.mastering import MasterResult, master

FS = 48_000
TARGET_LUFS = -18.0
CEILING_DBTP = -1.0
USED_WITHIN_DB = 0.15
REFERENCE_OVERSAMPLE = 8


def mastered(x: np.ndarray, *, seed: int = 1) -> MasterResult:
    return master(
        np.asarray(x, dtype=np.float32),
        sample_rate_hz=FS,
        target_lufs=TARGET_LUFS,
        ceiling_dbtp=CEILING_DBTP,
        seed=seed,
    )


def delivered(result: MasterResult):
    """ffmpeg's reading of the delivered stereo file."""
    return ffmpeg_ebur128(encode_dual_mono_wav16(result.pcm16, sample_rate_hz=FS))


def with_plosives(x: np.ndarray, *, seed: int, per_second: float, level: float) -> np.ndarray:
    """Add short low-frequency bursts (plosive-like) that peak well above the singing."""
    rng = np.random.default_rng(seed)
    x = x.copy()
    length = 960
    bump = np.hanning(length) * np.sin(2 * np.pi * 120 * np.arange(length) / FS)
    for start in rng.integers(0, x.size - length, int(per_second * x.size / FS)):
        x[start : start + length] += level * rng.uniform(0.5, 1.0) * bump
    return x


def test_singing_that_needs_only_gain_reads_the_target_on_ffmpeg():
    result = mastered(synthetic_singing(10.0, seed=5).audio)
    reading = delivered(result)
    assert result.limiter_gain_reduction_db == 0.0
    assert reading.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.1)
    assert result.loudness_lufs == pytest.approx(TARGET_LUFS, abs=0.02)
    assert result.iterations == 1


def test_singing_with_plosives_is_limited_under_the_ceiling_on_both_meters():
    x = with_plosives(synthetic_singing(10.0, seed=6).audio * 0.3, seed=6, per_second=2, level=0.9)
    result = mastered(x)
    reading = delivered(result)
    assert result.limiter_gain_reduction_db > 0.5
    assert reading.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.2)
    assert_ceiling_used(result)


def test_a_very_peaky_signal_still_reaches_the_target_within_0_2_lu():
    result = mastered(noise_bursts_over_a_quiet_tone())
    reading = delivered(result)
    assert result.limiter_gain_reduction_db > 10.0
    assert reading.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.2)
    assert_ceiling_used(result)


def assert_ceiling_used(result: MasterResult) -> None:
    """Every meter reads the delivered file at most -1.0 dBTP and less than USED_WITHIN_DB under."""
    readings_dbtp = {
        "ffmpeg ebur128": delivered(result).true_peak_dbtp,
        "8x FFT reference": reference_true_peak_dbtp(
            result.pcm16 / 32768.0, fs=FS, oversample=REFERENCE_OVERSAMPLE
        ),
        "ours": result.true_peak_dbtp,
    }
    for meter, reading_dbtp in readings_dbtp.items():
        assert CEILING_DBTP - USED_WITHIN_DB <= reading_dbtp <= CEILING_DBTP, (meter, readings_dbtp)


def _sparse_transients() -> np.ndarray:
    """Quiet singing and, every 1.1 s, a 5 ms decaying noise burst (a hi-hat, a consonant)."""
    rng = np.random.default_rng(5)
    x = 0.05 * synthetic_singing(12.0, seed=5).audio
    decay = np.exp(-np.arange(240) / 40)
    for start_s in np.arange(0.4, 12.0, 1.1):
        start = int(start_s * FS)
        x[start : start + 240] += 0.8 * rng.standard_normal(240) * decay
    return x


def _fs4_bursts() -> np.ndarray:
    """A quiet tone and 5 ms bursts at fs/4 whose peaks fall halfway between samples: the
    samples read 3 dB under the true peak."""
    x = 0.02 * sine(220, peak_dbfs=0, duration_s=12.0)
    burst = 0.7 * np.sin(2 * np.pi * np.arange(240) / 4 + np.pi / 4) * np.hanning(240)
    for start_s in np.arange(0.3, 12.0, 0.7):
        x[int(start_s * FS) : int(start_s * FS) + 240] += burst
    return x


def _tone_and_3k_bursts() -> np.ndarray:
    """A 440 Hz tone at -20 dBFS and 10 ms bursts of 3 kHz well above it."""
    x = 0.1 * sine(440, peak_dbfs=0, duration_s=12.0)
    burst = 0.8 * np.sin(2 * np.pi * 3_000 * np.arange(480) / FS) * np.hanning(480)
    for start_s in np.arange(0.2, 12.0, 0.9):
        x[int(start_s * FS) : int(start_s * FS) + 480] += burst
    return x


@pytest.mark.parametrize("make", [_sparse_transients, _fs4_bursts, _tone_and_3k_bursts])
def test_where_the_limiter_works_the_ceiling_is_used_on_every_meter(make):
    result = mastered(make())
    assert result.limiter_gain_reduction_db > 0.5
    assert delivered(result).integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.1)
    assert_ceiling_used(result)


def test_dc_offset_is_removed_and_costs_no_headroom():
    fade = np.minimum(1.0, np.minimum(np.arange(5 * FS), np.arange(5 * FS)[::-1]) / 480)
    x = 0.8 + fade * sine(1_000, peak_dbfs=-20, duration_s=5.0)  # with the DC, peaks pass 1.0
    result = mastered(x)
    assert result.limiter_gain_reduction_db == 0.0
    assert abs(result.pcm16.mean()) < 0.001 * 32768
    assert result.true_peak_dbtp == pytest.approx(-18.0, abs=0.1)  # the tone alone, at -18 LUFS
    assert delivered(result).integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.1)


def test_same_seed_same_samples_other_seed_other_dither_same_loudness():
    x = synthetic_singing(3.0, seed=8).audio
    first = mastered(x, seed=123)
    np.testing.assert_array_equal(mastered(x, seed=123).pcm16, first.pcm16)
    other = mastered(x, seed=124)
    assert not np.array_equal(other.pcm16, first.pcm16)
    assert other.loudness_lufs == pytest.approx(first.loudness_lufs, abs=0.01)


def test_digital_silence_comes_out_as_digital_silence():
    result = mastered(np.zeros(FS * 2))
    np.testing.assert_array_equal(result.pcm16, np.zeros(FS * 2, np.int16))
    assert (result.gain_db, result.limiter_gain_reduction_db) == (0.0, 0.0)
    assert result.loudness_lufs is None and result.true_peak_dbtp is None


def test_input_below_the_absolute_gate_gets_no_gain():
    x = np.random.default_rng(9).standard_normal(FS * 2) * 10 ** (-85 / 20)
    result = mastered(x)
    assert result.gain_db == 0.0 and result.loudness_lufs is None
    assert result.true_peak_dbtp is not None and result.true_peak_dbtp < -60.0
    assert np.std(result.pcm16 / 32768.0) == pytest.approx(np.std(x), rel=0.2)


def test_input_shorter_than_one_loudness_block_gets_no_gain_but_is_still_limited():
    x = sine(1_000, peak_dbfs=3.0, duration_s=0.3)  # over full scale, too short to measure
    result = mastered(x)
    assert result.gain_db == 0.0 and result.loudness_lufs is None
    assert result.limiter_gain_reduction_db > 4.0
    assert result.true_peak_dbtp <= CEILING_DBTP
    assert not np.isnan(result.pcm16).any()


@pytest.mark.parametrize("make", [noise_bursts_over_a_quiet_tone, lambda: _tone_and_3k_bursts()])
def test_overwrite_x_band_limits_in_place_and_delivers_the_same_samples(make):
    """Each round works on a copy of the band-limited signal, wherever that is kept: several
    rounds (the noise bursts take the limiter over 30 dB) deliver what the copying path does."""
    x = make().astype(np.float32)
    copying = mastered(x)
    owned = x.copy()
    in_place = master(
        owned,
        sample_rate_hz=FS,
        target_lufs=TARGET_LUFS,
        ceiling_dbtp=CEILING_DBTP,
        seed=1,
        overwrite_x=True,
    )
    np.testing.assert_array_equal(in_place.pcm16, copying.pcm16)
    assert in_place.iterations == copying.iterations
    assert not np.array_equal(owned, x)  # band-limited where it was
    assert not np.shares_memory(in_place.pcm16, owned)  # the rounds worked on copies


def test_several_rounds_band_limit_once(monkeypatch):
    calls = []
    band_limit = mastering._band_limit
    monkeypatch.setattr(mastering, "_band_limit", lambda x: calls.append(1) or band_limit(x))
    result = mastered(noise_bursts_over_a_quiet_tone())
    assert result.iterations > 1
    assert calls == [1]


def test_a_signal_to_overwrite_must_be_contiguous_writeable_float32():
    read_only = np.zeros(100, np.float32)
    read_only.flags.writeable = False
    for x in (np.zeros(100), np.zeros(200, np.float32)[::2], read_only):
        with pytest.raises(InvalidParamsError, match="overwrite_x"):
            master(
                x,
                sample_rate_hz=FS,
                target_lufs=TARGET_LUFS,
                ceiling_dbtp=CEILING_DBTP,
                seed=0,
                overwrite_x=True,
            )


def test_input_is_not_changed():
    x = synthetic_singing(1.0, seed=10).audio.astype(np.float32)
    before = x.copy()
    mastered(x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    ("x", "kwargs", "error", "message"),
    [
        (np.zeros(0, np.float32), {}, EmptyInputError, "no samples"),
        (np.full(100, np.nan, np.float32), {}, NonFiniteSamplesError, "NaN"),
        (np.zeros((100, 2), np.float32), {}, InvalidParamsError, "1-D"),
        (np.zeros(100, np.float32), {"target_lufs": 3.0}, InvalidParamsError, "target_lufs"),
        (np.zeros(100, np.float32), {"ceiling_dbtp": 1.0}, InvalidParamsError, "ceiling_dbtp"),
        (np.zeros(100, np.float32), {"sample_rate_hz": 100}, InvalidParamsError, "sample_rate_hz"),
        (np.zeros(100, np.float32), {"sample_rate_hz": 44_100}, InvalidParamsError, "48000"),
    ],
)
def test_bad_arguments_are_refused(x, kwargs, error, message):
    kwargs = {
        "sample_rate_hz": FS,
        "target_lufs": TARGET_LUFS,
        "ceiling_dbtp": CEILING_DBTP,
        "seed": 0,
        **kwargs,
    }
    with pytest.raises(error, match=message):
        master(x, **kwargs)


def test_the_band_limit_does_not_depend_on_the_core_count_and_matches_one_pass(monkeypatch):
    """It runs in 30 s segments, each after the first with a 1 s lead-in, as many at once as
    there are cores: the same output on 1 core or 3, within float32 rounding of one forward
    and one backward pass over the whole signal."""
    rng = np.random.default_rng(3)
    x = (0.2 * rng.standard_normal(95 * FS) + 0.05).astype(np.float32)  # 4 segments, DC
    outputs = []
    for cores in (1, 3):
        monkeypatch.setattr(parallelism, "usable_cores", lambda cores=cores: cores)
        outputs.append(mastering._band_limit(x.copy()))  # in place
    assert np.array_equal(outputs[0], outputs[1])
    high_pass = scipy.signal.butter(2, 5.0, btype="highpass", fs=FS, output="sos")
    low_pass = scipy.signal.ellip(7, 0.01, 60.0, 20_000.0, fs=FS, output="sos")
    sos = np.vstack([high_pass, low_pass])
    settle = round(0.1 * FS)
    forward, _ = scipy.signal.sosfilt(
        sos, x.astype(np.float64), zi=scipy.signal.sosfilt_zi(sos) * x[:settle].mean()
    )
    backward = forward.astype(np.float32)[::-1].astype(np.float64)
    one_pass, _ = scipy.signal.sosfilt(
        sos, backward, zi=scipy.signal.sosfilt_zi(sos) * backward[:settle].mean()
    )
    np.testing.assert_allclose(outputs[0], one_pass[::-1], rtol=0, atol=1e-6)


def test_a_nan_in_a_later_band_limit_segment_is_refused():
    x = np.zeros(95 * FS, np.float32)
    x[80 * FS] = np.nan
    with pytest.raises(NonFiniteSamplesError):
        master(x, sample_rate_hz=FS, target_lufs=TARGET_LUFS, ceiling_dbtp=CEILING_DBTP, seed=1)
