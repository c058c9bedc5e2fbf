"""TPDF dither to 16 bit and the dual-mono WAV: read back by soundfile and ffmpeg."""

import io
import struct

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.meters import ffmpeg_ebur128
from tests.signals import sine
from voxregen_core import export, parallelism
from voxregen_core.errors import InvalidParamsError
from voxregen_core.export import dither_to_pcm16, encode_dual_mono_wav16

FS = 48_000


def test_wav_reads_back_as_48khz_stereo_pcm16_with_identical_channels():
    pcm16 = dither_to_pcm16(sine(440, peak_dbfs=-6, duration_s=1.5), seed=1)
    wav = encode_dual_mono_wav16(pcm16, sample_rate_hz=FS)
    info = sf.info(io.BytesIO(wav))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        FS,
        2,
        "PCM_16",
        pcm16.size,
    )
    frames, _ = sf.read(io.BytesIO(wav), dtype="int16")
    np.testing.assert_array_equal(frames[:, 0], frames[:, 1])
    np.testing.assert_array_equal(frames[:, 0], pcm16)


def test_wav_header_is_the_canonical_44_bytes():
    wav = encode_dual_mono_wav16(np.array([1, -2, 3], np.int16), sample_rate_hz=FS)
    fields = struct.unpack("<4sI4s4sIHHIIHH4sI", wav[:44])
    assert fields == (b"RIFF", 36 + 12, b"WAVE", b"fmt ", 16, 1, 2, FS, FS * 4, 4, 16, b"data", 12)
    assert wav[44:] == struct.pack("<6h", 1, 1, -2, -2, 3, 3)


def test_ffmpeg_reads_the_wav_as_the_stereo_file_it_is():
    pcm16 = dither_to_pcm16(sine(1000, peak_dbfs=-20, duration_s=5), seed=2)
    reading = ffmpeg_ebur128(encode_dual_mono_wav16(pcm16, sample_rate_hz=FS))
    assert reading.integrated_lufs == pytest.approx(-19.99, abs=0.05)  # L = R: +3.01 LU


def test_same_seed_same_bytes_other_seed_other_dither():
    x = sine(440, peak_dbfs=-30, duration_s=1)
    first = encode_dual_mono_wav16(dither_to_pcm16(x, seed=7), sample_rate_hz=FS)
    assert encode_dual_mono_wav16(dither_to_pcm16(x, seed=7), sample_rate_hz=FS) == first
    assert encode_dual_mono_wav16(dither_to_pcm16(x, seed=8), sample_rate_hz=FS) != first


def test_dither_does_not_depend_on_the_core_count_and_each_segment_has_its_own_noise(
    monkeypatch,
):
    """Segments are dithered at once, each from a stream seeded by the seed and its place."""
    x = np.full(3 * export._SEGMENT_SAMPLES + 1000, 0.25 / 32768, np.float32)  # a quarter LSB
    outputs = []
    for cores in (1, 3):
        monkeypatch.setattr(parallelism, "usable_cores", lambda cores=cores: cores)
        outputs.append(dither_to_pcm16(x, seed=11))
    assert np.array_equal(outputs[0], outputs[1])
    first, second = (
        outputs[0][: export._SEGMENT_SAMPLES],
        outputs[0][export._SEGMENT_SAMPLES :][: export._SEGMENT_SAMPLES],
    )
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.01  # not the same noise again
    assert outputs[0].mean() == pytest.approx(0.25, abs=0.01)  # TPDF: unbiased, as one stream


@settings(max_examples=30)
@given(
    level=st.floats(min_value=0.0, max_value=0.99),
    seed=st.integers(min_value=0, max_value=2**64 - 1),
)
def test_dither_error_is_tpdf_within_one_and_a_half_lsb(level, seed):
    x = level * np.random.default_rng(seed % 2**32).uniform(-1, 1, 20_000)
    error = dither_to_pcm16(x, seed=seed) - x * 32768
    assert np.abs(error).max() <= 1.5  # ±1 LSB of dither, then rounding
    assert abs(error.mean()) < 0.03  # unbiased: standard error is 0.5 / sqrt(20000)
    assert error.var() == pytest.approx(0.25, rel=0.1)  # LSB²/6 (TPDF) + LSB²/12 (rounding)


def test_dither_clips_to_the_int16_range():
    pcm16 = dither_to_pcm16(np.array([1.5, -1.5, 1.0, -1.0]), seed=0)
    assert pcm16[0] == 32767 and pcm16[1] == -32768
    assert pcm16[2] == 32767 and pcm16[3] in (-32768, -32767)


def test_dither_does_not_change_its_input():
    x = sine(440, peak_dbfs=-6, duration_s=0.1)
    before = x.copy()
    dither_to_pcm16(x, seed=3)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize(
    ("x", "seed", "message"),
    [
        (np.zeros(4), -1, "seed"),
        (np.zeros(4), 1.5, "seed"),
        (np.zeros((4, 2)), 0, "shape"),
        (np.zeros(4, np.int16), 0, "int16"),
    ],
)
def test_dither_refuses_bad_arguments(x, seed, message):
    with pytest.raises(InvalidParamsError, match=message):
        dither_to_pcm16(x, seed=seed)


@pytest.mark.parametrize(
    ("pcm16", "rate", "message"),
    [
        (np.zeros(4, np.float32), FS, "float32"),
        (np.zeros((4, 2), np.int16), FS, "shape"),
        (np.zeros(4, np.int16), 0, "sample_rate_hz"),
    ],
)
def test_encoder_refuses_bad_arguments(pcm16, rate, message):
    with pytest.raises(InvalidParamsError, match=message):
        encode_dual_mono_wav16(pcm16, sample_rate_hz=rate)


@pytest.mark.parametrize("n_samples", [1, 1000, (1 << 20) + 12_345, 3 << 20, (5 << 20) + 7])
def test_dither_into_the_inputs_own_memory_gives_the_same_pcm(n_samples: int) -> None:
    """overwrite_x quantizes in place, in waves of segments on all cores (6 segments: 4 waves):
    the same samples as the copy."""
    rng = np.random.default_rng(5)
    x = (rng.uniform(-1.0, 1.0, n_samples) * 0.9).astype(np.float32)
    expected = dither_to_pcm16(x, seed=3)
    in_place = dither_to_pcm16(x, seed=3, overwrite_x=True)
    assert np.shares_memory(in_place, x)
    np.testing.assert_array_equal(in_place, expected)


def test_dither_refuses_to_overwrite_an_input_it_cannot_quantize_in_place() -> None:
    with pytest.raises(InvalidParamsError, match="overwrite_x"):
        dither_to_pcm16(np.zeros(100, np.float64), seed=0, overwrite_x=True)
    with pytest.raises(InvalidParamsError, match="overwrite_x"):
        dither_to_pcm16(np.zeros(200, np.float32)[::2], seed=0, overwrite_x=True)
