"""Integrated loudness against BS.1770-4 reference readings, EBU Tech 3341 and two other meters."""

import math

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.meters import ffmpeg_ebur128_array
from tests.signals import sine, synthetic_singing
from voxregen_core import loudness, parallelism
from voxregen_core.errors import InvalidParamsError, NonFiniteSamplesError
from voxregen_core.loudness import (
    GATE_JITTER_LU,
    integrated_loudness,
    integrated_loudness_lufs,
    k_weighting_sos,
)

FS = 48_000


def stereo_tone(segments: list[tuple[float, float]], *, fs: int = FS) -> np.ndarray:
    """EBU Tech 3341 test signal: a 1 kHz sine on both channels, (peak dBFS, seconds) per segment."""
    mono = np.concatenate(
        [sine(1000, peak_dbfs=level, duration_s=seconds, fs=fs) for level, seconds in segments]
    ).astype(np.float32)
    return np.stack([mono, mono], axis=1)


def test_1khz_sine_at_minus_20_dbfs_reads_minus_23_lufs_mono():
    x = sine(1000, peak_dbfs=-20, duration_s=10)
    assert integrated_loudness_lufs(x, sample_rate_hz=FS) == pytest.approx(-23.0, abs=0.05)


def test_same_sine_on_both_channels_reads_minus_19_99_both_ways():
    x = sine(1000, peak_dbfs=-20, duration_s=10)
    stereo = integrated_loudness_lufs(np.stack([x, x], axis=1), sample_rate_hz=FS)
    dual_mono = integrated_loudness_lufs(x, sample_rate_hz=FS, dual_mono=True)
    assert stereo == pytest.approx(-19.99, abs=0.05)
    assert dual_mono == pytest.approx(stereo, abs=1e-9)
    assert dual_mono - integrated_loudness_lufs(x, sample_rate_hz=FS) == pytest.approx(
        10 * math.log10(2), abs=1e-9
    )


@pytest.mark.parametrize(
    ("segments", "expected_lufs"),
    [
        ([(-23, 20)], -23.0),  # Tech 3341 case 1
        ([(-33, 20)], -33.0),  # case 2
        ([(-36, 10), (-23, 60), (-36, 10)], -23.0),  # case 3: relative gate
        ([(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)], -23.0),  # case 4: both gates
        ([(-26, 20), (-20, 20.1), (-26, 20)], -23.0),  # case 5
    ],
)
def test_ebu_tech_3341_cases_1_to_5(segments, expected_lufs):
    measured = integrated_loudness_lufs(stereo_tone(segments), sample_rate_hz=FS)
    assert measured == pytest.approx(expected_lufs, abs=0.1)


def test_k_weighting_at_48khz_equals_the_standards_table():
    # BS.1770-4 Table 1 (pre-filter) and Table 2 (RLB high-pass), 48 kHz.
    table = np.array(
        [
            [
                1.53512485958697,
                -2.69169618940638,
                1.19839281085285,
                1.0,
                -1.69065929318241,
                0.73248077421585,
            ],
            [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
        ]
    )
    np.testing.assert_allclose(k_weighting_sos(sample_rate_hz=FS), table, rtol=0, atol=1e-8)


def test_44_1_khz_reads_the_same_sine_the_same():
    x = sine(1000, peak_dbfs=-20, duration_s=10, fs=44_100)
    assert integrated_loudness_lufs(x, sample_rate_hz=44_100) == pytest.approx(-23.0, abs=0.05)
    reference = pyloudnorm.Meter(44_100, filter_class="DeMan").integrated_loudness(x)
    assert integrated_loudness_lufs(x, sample_rate_hz=44_100) == pytest.approx(reference, abs=0.01)


@pytest.mark.parametrize(
    "x",
    [
        np.zeros(FS * 2),
        np.zeros((FS * 2, 2)),
        sine(1000, peak_dbfs=-20, duration_s=0.399),
        np.zeros(0),
    ],
    ids=["silence", "stereo silence", "shorter than 400 ms", "empty"],
)
def test_nothing_to_gate_reads_minus_infinity_never_nan(x):
    assert integrated_loudness_lufs(x, sample_rate_hz=FS) == float("-inf")


def test_below_the_absolute_gate_reads_minus_infinity():
    x = sine(1000, peak_dbfs=-70, duration_s=2)  # -73 LUFS
    assert integrated_loudness_lufs(x, sample_rate_hz=FS) == float("-inf")


def test_int16_is_read_as_pcm():
    x = sine(1000, peak_dbfs=-20, duration_s=5)
    pcm16 = np.round(x * 32768).astype(np.int16)
    assert integrated_loudness_lufs(pcm16, sample_rate_hz=FS) == pytest.approx(
        integrated_loudness_lufs(x, sample_rate_hz=FS), abs=1e-3
    )


def test_agrees_with_ffmpeg_on_synthetic_singing_mono_and_dual_mono():
    x = synthetic_singing(20.0, seed=3).audio.astype(np.float32)
    assert integrated_loudness_lufs(x, sample_rate_hz=FS) == pytest.approx(
        ffmpeg_ebur128_array(x, fs=FS).integrated_lufs, abs=0.05
    )
    assert integrated_loudness_lufs(x, sample_rate_hz=FS, dual_mono=True) == pytest.approx(
        ffmpeg_ebur128_array(np.stack([x, x], axis=1), fs=FS).integrated_lufs, abs=0.05
    )


def test_the_k_weighting_does_not_depend_on_the_core_count_and_matches_one_pass(monkeypatch):
    """The sub-block powers come from 30 s segments filtered at once, each after the first with a
    1 s lead-in from rest: the same on 1 core or 3, and within float32 rounding (1e-5 of a
    power: 4e-5 dB) of SciPy's float64 pass from rest over the whole signal. The signal is a
    DAW's: exact digital silence, then singing that starts on a hard cut just before a segment
    boundary, with a DC offset."""
    singing = synthetic_singing(70.0, seed=5).audio + 0.05
    x = np.concatenate([np.zeros(25 * FS), singing]).astype(np.float32)  # 95 s: 4 segments
    powers = []
    for cores in (1, 3):
        monkeypatch.setattr(parallelism, "usable_cores", lambda cores=cores: cores)
        powers.append(loudness._subblock_powers(x, sample_rate_hz=FS))
    assert np.array_equal(powers[0], powers[1])
    weighted = scipy.signal.sosfilt(k_weighting_sos(sample_rate_hz=FS), x.astype(np.float64))
    one_pass = np.mean(weighted.reshape(-1, FS // 10) ** 2, axis=1)
    assert powers[0].shape == one_pass.shape == (950,)
    np.testing.assert_allclose(powers[0], one_pass, rtol=1e-5, atol=1e-15)
    assert not powers[0][:250].any()  # the digital silence stays exactly silent


def test_agrees_with_pyloudnorm_on_a_long_signal():
    x = synthetic_singing(90.0, seed=4).audio
    reference = pyloudnorm.Meter(FS, filter_class="DeMan").integrated_loudness(x)
    assert integrated_loudness_lufs(x, sample_rate_hz=FS) == pytest.approx(reference, abs=0.05)


@settings(max_examples=20)
@given(
    level_db=st.floats(min_value=-40.0, max_value=20.0),  # stays above the -70 LUFS gate
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_gain_moves_loudness_by_exactly_the_gain(level_db, seed):
    x = np.random.default_rng(seed).standard_normal(FS * 2) * 0.1
    base = integrated_loudness_lufs(x, sample_rate_hz=FS)
    scaled = integrated_loudness_lufs(x * 10 ** (level_db / 20), sample_rate_hz=FS)
    assert scaled == pytest.approx(base + level_db, abs=1e-6)


def test_non_finite_samples_are_refused():
    x = sine(1000, peak_dbfs=-20, duration_s=1)
    x[1234] = np.nan
    with pytest.raises(NonFiniteSamplesError, match="NaN or infinite"):
        integrated_loudness_lufs(x, sample_rate_hz=FS)


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        (np.zeros((10, 3)), {}, "shape"),
        (np.zeros(10, np.int32), {}, "dtype int32"),
        (np.zeros((10, 2)), {"dual_mono": True}, "2 channels"),
        (np.zeros(10), {"sample_rate_hz": 4000}, "4000"),
    ],
)
def test_bad_arguments_are_refused(x, kwargs, message):
    kwargs = {"sample_rate_hz": FS, **kwargs}
    with pytest.raises(InvalidParamsError, match=message):
        integrated_loudness_lufs(x, **kwargs)


def test_a_reading_with_a_block_on_the_relative_gate_is_flagged_as_gate_sensitive():
    # 4 s of a 1 kHz tone, then 4 s of it quieter, down to where the quiet blocks sit on the
    # relative gate (10 LU under the blocks' mean power, about 3 dB under the loud half's): they
    # count on our gate, but not on one that sits GATE_JITTER_LU higher, and the reading jumps.
    loud = sine(1_000, peak_dbfs=-20.0, duration_s=4.0)
    loud_lufs = integrated_loudness_lufs(loud, sample_rate_hz=FS)
    for quiet_db in np.arange(-12.0, -14.0, -0.002):
        x = np.concatenate([loud, loud * 10 ** (quiet_db / 20)])
        reading = integrated_loudness(x, sample_rate_hz=FS)
        if reading.gate_sensitivity_lu > 1.0:
            break
    else:
        pytest.fail("no level put the quiet blocks on the gate")
    assert -13.5 < quiet_db < -12.5
    assert loud_lufs - reading.lufs > 1.0  # the quiet half counted, pulling the reading down


def test_an_ordinary_long_reading_is_not_gate_sensitive():
    singing = synthetic_singing(60.0, seed=3).audio
    reading = integrated_loudness(singing, sample_rate_hz=FS)
    assert reading.gate_sensitivity_lu < GATE_JITTER_LU
