"""The delivered stem nulls against its input: a producer lays it back against the song's other
stems, and a null test is how an engineer checks a processor. At intensity 0 (the stub changes
nothing) with the limiter idle, `voxregen render` must deliver the input times one gain,
sample-aligned and phase-coherent: the residual after the best single gain at most -60 dB.

The input is real speech (espeak-ng) through a vocal chain's usual low cut (sox ``highpass
80``), at 48 kHz so that the file itself is the reference (no resampler in the comparison),
mono and stereo (the reference is then the mid, (L + R) / 2)."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.realistic_stems import VERSE, StemCorpus, render_with_cli, sox

MAX_RESIDUAL_DB = -60.0


def residual_db(delivered: np.ndarray, reference: np.ndarray) -> float:
    """Energy of ``delivered - g * reference`` relative to ``g * reference``, for the
    least-squares gain ``g``."""
    gain = np.dot(delivered, reference) / np.dot(reference, reference)
    residual = delivered - gain * reference
    return float(10.0 * np.log10(np.sum(residual**2) / np.sum((gain * reference) ** 2)))


@pytest.mark.parametrize("channels", [1, 2])
def test_at_intensity_0_the_delivery_is_the_input_times_one_gain(
    realistic_stems: StemCorpus, tmp_path: Path, channels: int
):
    phrase = realistic_stems.speech(VERSE)
    stem = tmp_path / "speech.wav"
    remix = ["remix", "1", "1v-0.5"] if channels == 2 else []  # right: 6 dB down, so L != R
    sox(phrase, "-r", 48_000, "-b", 24, stem, "highpass", 80, *remix)
    output = tmp_path / "out.wav"
    done = render_with_cli(stem, output, cache_dir=tmp_path / "cache", options=["--intensity", "0"])
    assert done.returncode == 0, done.stderr
    metrics = json.loads(output.with_suffix(".json").read_text())
    assert metrics["limiter_gain_reduction_db"] == 0.0  # the case is about the filters alone

    audio, rate_hz = sf.read(stem, dtype="float64", always_2d=True)
    reference = audio.mean(axis=1)
    delivered, delivered_rate_hz = sf.read(output, dtype="float64", always_2d=True)
    assert (rate_hz, delivered_rate_hz) == (48_000, 48_000)
    assert delivered.shape == (reference.shape[0], 2)
    assert residual_db(delivered[:, 0], reference) <= MAX_RESIDUAL_DB
    # sample-aligned: the cross-correlation peaks at lag 0
    lags = range(-8, 9)
    correlation = [np.dot(np.roll(delivered[:, 0], lag), reference) for lag in lags]
    assert lags[int(np.argmax(correlation))] == 0


def test_the_null_test_sees_a_one_sample_shift(realistic_stems: StemCorpus, tmp_path: Path):
    """The measure is sharp enough to matter: the same speech one sample late nulls nowhere
    near -60 dB."""
    phrase = realistic_stems.speech(VERSE)
    stem = tmp_path / "speech.wav"
    sox(phrase, "-r", 48_000, "-b", 24, stem, "highpass", 80)
    reference = sf.read(stem, dtype="float64")[0]
    assert residual_db(np.roll(reference, 1), reference) > -20.0
