"""YIN f0 and voicing against signals whose f0 and voicing are known by construction."""

import numpy as np
import pytest

from tests.signals import sine, synthetic_singing
from voxregen_core.errors import InvalidParamsError
from voxregen_core.pitch import THRESHOLD, estimate_f0

FS = 48_000
HOP_S = 0.01
EDGE_S = 0.03
"""A frame's analysis reaches about 25 ms either side of its centre."""


def _frames_away_from_boundaries(voiced_truth: np.ndarray, n_frames: int, *, guard_s: float):
    """Frames whose centre is more than ``guard_s`` from every change of the true voicing."""
    centres_s = np.arange(n_frames) * HOP_S
    boundaries_s = np.flatnonzero(np.diff(voiced_truth.astype(np.int8))) / FS
    if boundaries_s.size == 0:
        return np.ones(n_frames, bool)
    nearest = np.abs(centres_s[:, None] - boundaries_s[None, :]).min(axis=1)
    return nearest > guard_s


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_synthetic_singing_f0_and_voicing(seed):
    """Median f0 error < 1 % on frames voiced in both truth and estimate; voicing error < 5 %.

    The truth of a frame is the truth at its centre sample. Frames within ±20 ms of a
    voicing boundary of the truth are left out: a 32 ms window straddling a note's onset
    is neither clearly voiced nor clearly not.
    """
    singing = synthetic_singing(20.0, seed=seed)
    track = estimate_f0(singing.audio.astype(np.float32), sample_rate_hz=FS)

    n_frames = track.f0_hz.shape[0]
    assert n_frames == singing.audio.shape[0] // 480 + 1
    centres = np.minimum(np.arange(n_frames) * 480, singing.audio.shape[0] - 1)
    true_voiced, true_f0_hz = singing.voiced[centres], singing.f0_hz[centres]
    scored = _frames_away_from_boundaries(singing.voiced, n_frames, guard_s=0.02)

    both = scored & true_voiced & track.voiced
    relative_error = np.abs(track.f0_hz[both] / true_f0_hz[both] - 1.0)
    assert np.median(relative_error) < 0.01
    assert np.mean(track.voiced[scored] != true_voiced[scored]) < 0.05
    assert np.all(track.f0_hz[~track.voiced] == 0.0)


@pytest.mark.parametrize("f0_hz", [80.0, 220.0, 440.0, 1000.0])
def test_pure_tones_within_half_a_percent(f0_hz):
    """Every frame whose analysis lies inside the tone is voiced and within 0.5 %."""
    track = estimate_f0(
        sine(f0_hz, peak_dbfs=-12.0, duration_s=1.0).astype(np.float32), sample_rate_hz=FS
    )
    inside = slice(int(EDGE_S / HOP_S) + 1, -int(EDGE_S / HOP_S) - 1)
    assert np.all(track.voiced[inside])
    np.testing.assert_allclose(track.f0_hz[inside], f0_hz, rtol=0.005)
    assert np.all(track.aperiodicity[inside] < 0.01)


def test_other_input_rates_give_the_same_frames():
    tone = sine(220.0, peak_dbfs=-6.0, duration_s=1.0, fs=44_100).astype(np.float32)
    track = estimate_f0(tone, sample_rate_hz=44_100)
    assert track.f0_hz.shape == (44_100 // 441 + 1,)
    np.testing.assert_allclose(track.f0_hz[4:-4], 220.0, rtol=0.005)


def test_frame_i_describes_the_signal_at_i_times_hop():
    """A 200 Hz tone jumps to 400 Hz at exactly 1 s: frames read the f0 at their centre."""
    low = sine(200.0, peak_dbfs=-6.0, duration_s=1.0)
    high = sine(400.0, peak_dbfs=-6.0, duration_s=1.0)
    track = estimate_f0(np.concatenate([low, high]).astype(np.float32), sample_rate_hz=FS)
    times_s = np.arange(track.f0_hz.shape[0]) * HOP_S
    before = (times_s > EDGE_S) & (times_s < 1.0 - EDGE_S)
    after = (times_s > 1.0 + EDGE_S) & (times_s < 2.0 - EDGE_S)
    np.testing.assert_allclose(track.f0_hz[before], 200.0, rtol=0.005)
    np.testing.assert_allclose(track.f0_hz[after], 400.0, rtol=0.005)


def test_silence_is_unvoiced():
    track = estimate_f0(np.zeros(FS, np.float32), sample_rate_hz=FS)
    assert track.f0_hz.shape == (101,)
    assert not track.voiced.any()
    assert not track.f0_hz.any()


def test_white_noise_is_mostly_unvoiced():
    noise = np.random.default_rng(5).standard_normal(3 * FS).astype(np.float32) * 0.1
    track = estimate_f0(noise, sample_rate_hz=FS)
    assert track.voiced.mean() < 0.05
    assert np.median(track.aperiodicity) > THRESHOLD


def test_a_quiet_stem_is_still_voiced():
    """The voicing floors are relative to the stem's loudest frames, down to -70 dBFS."""
    quiet = sine(330.0, peak_dbfs=-50.0, duration_s=1.0).astype(np.float32)
    track = estimate_f0(quiet, sample_rate_hz=FS)
    assert track.voiced[5:-5].all()


def test_a_tone_far_below_the_loudest_frames_is_unvoiced():
    loud = sine(330.0, peak_dbfs=-3.0, duration_s=1.0)
    faint = sine(330.0, peak_dbfs=-63.0, duration_s=1.0)
    track = estimate_f0(np.concatenate([loud, faint]).astype(np.float32), sample_rate_hz=FS)
    assert track.voiced[5:95].all()
    assert not track.voiced[105:].any()


def test_does_not_modify_its_input():
    x = sine(220.0, peak_dbfs=-6.0, duration_s=0.5).astype(np.float32)
    before = x.copy()
    estimate_f0(x, sample_rate_hz=FS)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        (np.zeros((2, 100), np.float32), {}, "1-D float"),
        (np.zeros(100, np.int16), {}, "1-D float"),
        (np.zeros(100, np.float32), {"hop_s": 0.0}, "hop"),
        (np.zeros(100, np.float32), {"fmin_hz": 20.0}, "fmin_hz=20.0"),
        (np.zeros(100, np.float32), {"fmin_hz": 500.0, "fmax_hz": 400.0}, "fmax_hz=400.0"),
    ],
)
def test_bad_arguments_are_refused(x, kwargs, message):
    with pytest.raises(InvalidParamsError, match=message):
        estimate_f0(x, sample_rate_hz=FS, **kwargs)
