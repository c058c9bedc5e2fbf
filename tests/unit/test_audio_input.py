"""Input rules: every accepted WAV flavour decodes as libsndfile reads it; every refusal is typed."""

import io
import struct

import hypothesis.strategies as st
import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings

from tests.signals import sine, wav_bytes
from voxregen_core import spec
from voxregen_core.audio_input import MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, load_stem
from voxregen_core.errors import (
    EmptyInputError,
    InputTooLongError,
    InputTooShortError,
    InvalidInputError,
    NonFiniteSamplesError,
    NotAWavError,
    TooManyChannelsError,
    TruncatedInputError,
    UnsupportedFormatError,
    UnsupportedSampleRateError,
)

SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]


def _riff(*chunks: tuple[bytes, bytes]) -> bytes:
    """A RIFF/WAVE file from (id, body) chunks, each padded to an even length."""
    body = b"".join(
        chunk_id + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)
        for chunk_id, data in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def _fmt(*, tag: int = 1, channels: int = 1, rate_hz: int = 48_000, bits: int = 16):
    block_align = channels * bits // 8
    return b"fmt ", struct.pack(
        "<HHIIHH", tag, channels, rate_hz, rate_hz * block_align, block_align, bits
    )


def _pcm16(samples: np.ndarray) -> tuple[bytes, bytes]:
    return b"data", (np.asarray(samples) * 32767).astype("<i2").tobytes()


def _stereo_test_signal(n_samples: int = 24_000) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.uniform(-0.99, 0.99, size=(n_samples, 2))


@pytest.mark.parametrize("subtype", SUBTYPES)
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("container", ["WAV", "WAVEX"])
def test_every_accepted_encoding_decodes_as_libsndfile_reads_it(subtype, channels, container):
    audio = _stereo_test_signal()[:, :channels]
    buffer = io.BytesIO()
    sf.write(buffer, audio, spec.SAMPLE_RATE_HZ, subtype=subtype, format=container)
    data = buffer.getvalue()

    stem = load_stem(data)

    reference, _ = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    assert stem.audio.dtype == np.float32
    np.testing.assert_allclose(stem.audio, reference.mean(axis=1), rtol=0, atol=1e-7)
    assert (stem.source_format, stem.source_channels) == (subtype, channels)
    assert (stem.source_sample_rate_hz, stem.duration_s) == (48_000, 0.5)


def test_stereo_becomes_the_mid_of_its_channels():
    left = sine(220.0, peak_dbfs=-6.0, duration_s=1.0)
    right = sine(330.0, peak_dbfs=-12.0, duration_s=1.0)
    stem = load_stem(wav_bytes(np.stack([left, right], axis=1), subtype="FLOAT"))
    np.testing.assert_allclose(stem.audio, 0.5 * (left + right), atol=1e-7)
    assert stem.source_channels == 2


def test_out_of_phase_channels_cancel():
    tone = sine(1000.0, peak_dbfs=-1.0, duration_s=1.0)
    stem = load_stem(wav_bytes(np.stack([tone, -tone], axis=1), subtype="FLOAT"))
    assert np.max(np.abs(stem.audio)) == 0.0


def test_pcm_scales_follow_libsndfile():
    """uint8 (v - 128)/128, int16 v/2^15: extreme codes map to -1.0 and just under +1.0."""
    u8 = load_stem(_riff(_fmt(bits=8), (b"data", bytes([0, 128, 255]) * 8_000)))
    np.testing.assert_array_equal(u8.audio[:3], np.float32([-1.0, 0.0, 127 / 128]))
    i16 = load_stem(_riff(_fmt(), (b"data", np.int16([-32768, 0, 32767] * 8_000).tobytes())))
    np.testing.assert_array_equal(i16.audio[:3], np.float32([-1.0, 0.0, 32767 / 32768]))


@pytest.mark.parametrize(
    "rate_hz", [MIN_SAMPLE_RATE_HZ, 22_050, 44_100, 96_000, MAX_SAMPLE_RATE_HZ]
)
def test_other_rates_are_resampled_to_48k_keeping_pitch_and_level(rate_hz):
    duration_s = 1.0
    tone = sine(997.0, peak_dbfs=-6.0, duration_s=duration_s, fs=rate_hz)
    stem = load_stem(wav_bytes(tone, fs=rate_hz, subtype="FLOAT"))

    assert stem.audio.shape == (48_000,)
    assert (stem.source_sample_rate_hz, stem.duration_s) == (rate_hz, duration_s)
    interior = stem.audio[4_800:-4_800]
    spectrum = np.abs(np.fft.rfft(interior * np.hanning(interior.size)))
    assert np.argmax(spectrum) * 48_000 / interior.size == pytest.approx(997.0, abs=2.0)
    rms_db = 10 * np.log10(np.mean(np.square(interior, dtype=np.float64)))
    assert rms_db == pytest.approx(-6.0 - 3.0103, abs=0.01)


def test_unknown_chunks_odd_sizes_and_fmt_after_data_are_walked():
    samples = sine(440.0, peak_dbfs=-3.0, duration_s=0.5)
    plain = load_stem(_riff(_fmt(), _pcm16(samples)))
    decorated = load_stem(
        _riff(
            (b"LIST", b"INFOISFT\x05\x00\x00\x00voxr\x00"),  # 21 bytes: odd, so padded
            (b"junk", b"\x00" * 3),
            _pcm16(samples),
            (b"cue ", b"\x00" * 4),
            _fmt(),
        )
    )
    np.testing.assert_array_equal(decorated.audio, plain.audio)


def test_silence_is_a_valid_stem():
    stem = load_stem(wav_bytes(np.zeros(48_000), subtype="PCM_16"))
    assert stem.audio.shape == (48_000,)
    assert not np.any(stem.audio)


@pytest.mark.parametrize(
    ("n_frames", "error"),
    [(3_200, None), (3_199, InputTooShortError), (3_840_000, None), (3_840_001, InputTooLongError)],
)
def test_length_limits_are_inclusive(n_frames, error):
    """0.4 s (one BS.1770 block) and 480 s are accepted; a frame less or more is not."""
    data = _riff(_fmt(bits=8, rate_hz=8_000), (b"data", b"\x80" * n_frames))
    if error is None:
        assert load_stem(data).duration_s == n_frames / 8_000
    else:
        with pytest.raises(error, match=r"\d s"):
            load_stem(data)


def test_too_long_is_decided_from_the_header_before_decoding():
    """Non-finite samples would be found by decoding; the length limit fires first."""
    nan_samples = np.full(481 * 8_000, np.nan, dtype="<f4").tobytes()
    with pytest.raises(InputTooLongError, match=r"481\.0 s long; the limit is 480 s"):
        load_stem(_riff(_fmt(tag=3, bits=32, rate_hz=8_000), (b"data", nan_samples)))


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"", EmptyInputError, "empty"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x21" + bytes(200), NotAWavError, "MP3"),
        (b"\xff\xfb\x90\x64" + bytes(200), NotAWavError, "MP3"),
        (b"fLaC" + bytes(200), NotAWavError, "FLAC"),
        (b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.", NotAWavError, "not a WAV"),
        (bytes(range(256)), NotAWavError, "not a WAV"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", NotAWavError, "RIFF 'AVI ' file"),
        (b"RF64\xff\xff\xff\xffWAVEds64", UnsupportedFormatError, "RF64"),
        (b"RIFF\x24\x00", TruncatedInputError, "6 bytes"),
    ],
)
def test_files_that_are_not_wavs_are_refused(data, error, message):
    with pytest.raises(error, match=message):
        load_stem(data)


def test_a_wav_without_frames_is_empty():
    with pytest.raises(EmptyInputError, match="0 frames"):
        load_stem(_riff(_fmt(), (b"data", b"")))


def test_a_cut_data_chunk_says_how_much_is_missing():
    whole = wav_bytes(np.zeros(48_000), subtype="PCM_16")
    with pytest.raises(TruncatedInputError, match="declares 96000 bytes but only 50000"):
        load_stem(whole[: 44 + 50_000])


@pytest.mark.parametrize(("cut", "message"), [(12, "RIFF header declares"), (30, "'fmt ' chunk")])
def test_a_cut_header_is_truncated(cut, message):
    whole = wav_bytes(np.zeros(48_000), subtype="PCM_16")
    with pytest.raises(TruncatedInputError, match=message):
        load_stem(whole[:cut])


def test_more_than_two_channels_are_refused():
    data = wav_bytes(np.zeros((24_000, 6)), subtype="PCM_16")
    with pytest.raises(TooManyChannelsError, match="6 channels"):
        load_stem(data)


@pytest.mark.parametrize(
    ("subtype", "message"),
    [
        ("ULAW", "µ-law"),
        ("ALAW", "A-law"),
        ("IMA_ADPCM", "IMA ADPCM"),
        ("MS_ADPCM", "Microsoft ADPCM"),
    ],
)
def test_compressed_encodings_are_refused(subtype, message):
    data = wav_bytes(np.zeros(24_000), subtype=subtype)
    with pytest.raises(UnsupportedFormatError, match=message):
        load_stem(data)


@pytest.mark.parametrize(
    ("tag", "bits", "message"),
    [(1, 12, "12-bit PCM"), (3, 16, "16-bit float"), (0x1234, 16, "0x1234")],
)
def test_other_sample_encodings_are_refused(tag, bits, message):
    with pytest.raises(UnsupportedFormatError, match=message):
        load_stem(_riff(_fmt(tag=tag, bits=bits), (b"data", bytes(48_000))))


@pytest.mark.parametrize("rate_hz", [MIN_SAMPLE_RATE_HZ - 1, 0, MAX_SAMPLE_RATE_HZ + 1])
def test_sample_rates_outside_the_range_are_refused(rate_hz):
    with pytest.raises(UnsupportedSampleRateError, match=f"is {rate_hz} Hz"):
        load_stem(_riff(_fmt(rate_hz=rate_hz), (b"data", bytes(2 * 8_000))))


@pytest.mark.parametrize(
    ("subtype", "bad"), [("FLOAT", np.nan), ("DOUBLE", np.inf), ("DOUBLE", -np.inf)]
)
def test_non_finite_float_samples_are_refused(subtype, bad):
    audio = np.zeros((48_000, 2))
    audio[36_000, 1] = bad
    with pytest.raises(NonFiniteSamplesError, match=r"1 NaN or infinite .* at 0\.750 s"):
        load_stem(wav_bytes(audio, subtype=subtype))


_SMALL_WAVS = [
    wav_bytes(_stereo_test_signal(4_000)[:, :channels], fs=8_000, subtype=subtype)
    for subtype in ("PCM_U8", "PCM_24", "FLOAT")
    for channels in (1, 2)
]


@settings(max_examples=150, deadline=None)
@given(
    wav=st.sampled_from(_SMALL_WAVS),
    flips=st.lists(st.tuples(st.integers(0, 79), st.integers(0, 255)), max_size=4),
    keep=st.none() | st.integers(0, 40_000),
)
def test_damaged_wavs_are_decoded_or_refused_with_an_input_error(wav, flips, keep):
    """Bytes changed in the header region or a cut anywhere: a Stem or an InvalidInputError."""
    damaged = bytearray(wav[:keep])
    for position, value in flips:
        if position < len(damaged):
            damaged[position] = value
    try:
        stem = load_stem(bytes(damaged))
    except InvalidInputError as error:
        assert error.message and "\n" not in error.message
    else:
        assert stem.audio.dtype == np.float32 and stem.audio.ndim == 1


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_an_input_error(data):
    with pytest.raises(InvalidInputError):
        load_stem(data)
