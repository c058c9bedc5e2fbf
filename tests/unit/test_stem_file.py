"""Reading a stem from a file in blocks: the same samples as decoding it whole and resampling it
in one shot, the same input hash as the bytes', every byte read once and never all at once."""

import io
import struct

import numpy as np
import pytest
import soxr

from tests.signals import wav_bytes
from voxregen_core.audio_input import RESAMPLE_QUALITY, read_stem
from voxregen_core.errors import NonFiniteSamplesError, TruncatedInputError
from voxregen_core.input_hash import input_hash

BLOCK_FRAMES = 1 << 20
"""audio_input's block: the lengths below cross it."""


def _stereo(n_frames: int, *, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.9, 0.9, size=(n_frames, 2)).astype(np.float32)


def _with_chunks_around_data(wav: bytes) -> bytes:
    """``wav`` with a ``LIST`` chunk before its chunks and an odd-sized ``id3 `` one after them
    (padded to an even length), as DAWs and taggers write them."""
    before = b"LIST" + struct.pack("<I", 10) + b"INFOISFT\x00\x00"
    after = b"id3 " + struct.pack("<I", 5) + b"tag!!\x00"
    body = before + wav[12:] + after
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


@pytest.mark.parametrize("rate_hz", [8_000, 22_050, 44_100, 48_000, 96_000, 192_000, 384_000])
def test_the_streamed_mid_is_soxrs_one_shot_resampling_sample_for_sample(rate_hz):
    audio = _stereo(3 * BLOCK_FRAMES + 17)
    data = wav_bytes(audio, fs=rate_hz, subtype="FLOAT")
    left, right = audio.T  # a float WAV holds them exactly
    mid = (left + right) * np.float32(0.5)
    expected = (
        mid if rate_hz == 48_000 else soxr.resample(mid, rate_hz, 48_000, quality=RESAMPLE_QUALITY)
    )

    stem, _ = read_stem(io.BytesIO(data))

    assert stem.audio.dtype == np.float32
    assert stem.audio.shape == expected.shape
    np.testing.assert_array_equal(stem.audio, expected)


def test_the_hash_is_the_input_hash_of_every_byte_chunks_around_the_data_included():
    data = _with_chunks_around_data(wav_bytes(_stereo(BLOCK_FRAMES + 5), subtype="PCM_24"))

    stem, hash_hex = read_stem(io.BytesIO(data))

    assert hash_hex == input_hash(data)
    assert stem.audio.shape == (BLOCK_FRAMES + 5,)


class _Recording(io.BytesIO):
    """A file that records the offset and size of every read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[tuple[int, int]] = []

    def read(self, size: int | None = -1) -> bytes:
        offset = self.tell()
        data = super().read(size)
        self.reads.append((offset, len(data)))
        return data


def test_after_the_header_the_file_is_read_once_in_order_in_blocks_of_at_most_8_mib():
    wav = wav_bytes(_stereo(4 * BLOCK_FRAMES), fs=192_000, subtype="FLOAT")
    data = _with_chunks_around_data(wav)
    file = _Recording(data)

    read_stem(file)

    header_reads = max(i for i, (offset, _) in enumerate(file.reads) if offset == 0)
    assert all(size <= 40 for _, size in file.reads[:header_reads])
    reads = file.reads[header_reads:]
    assert [offset for offset, _ in reads] == list(
        np.cumsum([0] + [size for _, size in reads])[:-1]
    )
    assert sum(size for _, size in reads) == len(data)
    assert max(size for _, size in reads) <= 8 << 20  # a block of 192 kHz stereo float


class _Shrinking(io.BytesIO):
    """A file cut to ``keep_bytes`` after its size was read, as a file truncated meanwhile."""

    def __init__(self, data: bytes, *, keep_bytes: int) -> None:
        super().__init__(data)
        self.keep_bytes = keep_bytes

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        return data[: max(0, self.keep_bytes - (self.tell() - len(data)))]


def test_a_file_cut_short_while_being_read_is_refused_as_truncated():
    data = wav_bytes(_stereo(2 * BLOCK_FRAMES), subtype="PCM_16")
    with pytest.raises(TruncatedInputError, match=r"cut short: it ended at byte \d+ while being"):
        read_stem(_Shrinking(data, keep_bytes=len(data) // 2))


def test_non_finite_samples_in_several_blocks_are_counted_together_and_the_first_is_named():
    audio = np.full(3 * BLOCK_FRAMES, 0.25, dtype=np.float32)
    audio[[BLOCK_FRAMES + 7, 2 * BLOCK_FRAMES + 1, 2 * BLOCK_FRAMES + 2]] = [
        np.nan,
        np.inf,
        -np.inf,
    ]
    data = wav_bytes(audio, fs=96_000, subtype="FLOAT")
    first_s = (BLOCK_FRAMES + 7) / 96_000
    with pytest.raises(
        NonFiniteSamplesError,
        match=rf"holds 3 NaN or infinite sample value\(s\), the first at {first_s:.3f} s",
    ):
        read_stem(io.BytesIO(data))
