"""extract_features: frame grid, the 25 ms RMS curve, f0 and content metadata."""

import math

import numpy as np
import pytest

from tests.signals import sine, synthetic_singing
from voxregen_core.errors import InvalidParamsError
from voxregen_core.features import V1_TOKEN_RATE_HZ, extract_features

FS = 48_000


def _rms_db_by_definition(x: np.ndarray, frame: int) -> float:
    """Mean square over the 1200 samples [480·i − 600, 480·i + 600), zeros outside x."""
    start = frame * 480 - 600
    window = np.zeros(1200)
    lo, hi = max(start, 0), min(start + 1200, x.shape[0])
    if hi > lo:
        window[lo - start : hi - start] = x[lo:hi]
    mean_square = np.mean(window**2)
    return max(10 * np.log10(mean_square), -120.0) if mean_square > 0 else -120.0


@pytest.mark.parametrize("n_samples", [19_200, 19_679, 48_000, 48_001, 123_457])
def test_frame_grid_and_metadata(n_samples):
    x = synthetic_singing(3.0, seed=1).audio[:n_samples].astype(np.float32)
    features = extract_features(x, sample_rate_hz=FS)

    assert features.n_frames == n_samples // 480 + 1
    assert (features.feature_version, features.sample_rate_hz, features.hop_s) == ("v1", FS, 0.01)
    assert features.duration_s == n_samples / FS
    assert features.content.token_rate_hz == V1_TOKEN_RATE_HZ
    assert features.content.n_tokens == math.ceil(n_samples / FS * 50)
    assert (features.f0_hz.dtype, features.voiced.dtype, features.rms_db.dtype) == (
        np.float32,
        np.bool_,
        np.float32,
    )
    assert features.voiced.shape == features.rms_db.shape == (features.n_frames,)


def test_rms_of_a_sine_is_3_db_under_its_peak():
    features = extract_features(
        sine(1000.0, peak_dbfs=-20.0, duration_s=2.0).astype(np.float32), sample_rate_hz=FS
    )
    np.testing.assert_allclose(features.rms_db[2:-2], -20.0 - 3.0103, atol=0.005)


def test_rms_curve_matches_its_definition_on_every_frame():
    x = synthetic_singing(4.0, seed=2).audio.astype(np.float32)
    x[96_000:] = 0.0  # digital silence after loud singing must read the floor exactly
    features = extract_features(x, sample_rate_hz=FS)
    expected = [_rms_db_by_definition(x.astype(np.float64), i) for i in range(features.n_frames)]
    np.testing.assert_allclose(features.rms_db, expected, atol=1e-3)
    assert np.all(features.rms_db[202:] == -120.0)


def test_f0_and_voicing_of_a_tone():
    features = extract_features(
        sine(220.0, peak_dbfs=-6.0, duration_s=1.0).astype(np.float32), sample_rate_hz=FS
    )
    assert features.voiced[4:-4].all()
    np.testing.assert_allclose(features.f0_hz[4:-4], 220.0, rtol=0.005)
    assert features.f0_stats()["voiced_pct"] > 90.0


def test_does_not_modify_its_input():
    x = sine(220.0, peak_dbfs=-6.0, duration_s=0.5).astype(np.float32)
    before = x.copy()
    extract_features(x, sample_rate_hz=FS)
    np.testing.assert_array_equal(x, before)


def test_refuses_what_is_not_a_mono_float_signal():
    with pytest.raises(InvalidParamsError, match=r"1-D float array.*\(2, 100\)"):
        extract_features(np.zeros((2, 100), np.float32), sample_rate_hz=FS)
