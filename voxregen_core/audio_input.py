"""Input rules: which WAV files voxregen accepts, and their decoding to a 48 kHz mid signal.

The RIFF structure is parsed here (not by a library) so that every refusal is precise and
typed: the file walks chunk by chunk (word-aligned, any order, unknown chunks such as ``LIST``
or ``bext`` skipped) to ``fmt `` and ``data``; the limits are checked from the header before a
single sample is decoded. Then the file is read once from start to end, in blocks, each
hashed as it is read (:func:`~voxregen_core.input_hash.input_hasher`); each block of the
``data`` chunk is mixed to mid and resampled to 48 kHz with soxr's streaming resampler, so
that only the 48 kHz mid is ever held whole (an 8-minute 192 kHz stereo float stem is 737 MB;
its 48 kHz mid, 92 MB). Decoding the bytes we validated, rather than handing them to a second
parser, means the rules and the decoder cannot disagree about a file. The rules are listed in
docs/input.md.
"""

import io
import struct
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import BinaryIO

import attrs
import numpy as np
import soxr

from voxregen_core import spec
from voxregen_core.errors import (
    EmptyInputError,
    InputTooLongError,
    InputTooShortError,
    NonFiniteSamplesError,
    NotAWavError,
    TooManyChannelsError,
    TruncatedInputError,
    UnsupportedFormatError,
    UnsupportedSampleRateError,
)
from voxregen_core.input_hash import input_hasher
from voxregen_core.parallelism import in_background

MIN_SAMPLE_RATE_HZ = 8_000
MAX_SAMPLE_RATE_HZ = 384_000
MIN_INPUT_S = 0.4
"""One BS.1770-4 gating block: the shortest stem whose loudness can be measured."""

RESAMPLE_QUALITY = "HQ"
"""soxr's 'HQ' preset: 20-bit precision, passband to 91% of Nyquist, linear phase."""

_BLOCK_FRAMES = 1 << 20
"""Frames read, converted and resampled per step (24 s at 44.1 kHz): bounds the temporaries to
12 MB a block at most (192 kHz stereo float). Each step takes the GIL a dozen times, and the
CLI decodes while its other thread imports the rest of the render, which holds the GIL as it
goes: at 1 << 16 the decode of an 8-minute stem waited out 5000 hand-overs and ended 0.16 s
later (measured when SciPy's modules loaded beside it: the render started 1.35 s after the
process, 1.19 s with 1 << 20; alone, decoding is 0.03 s slower)."""
_OTHER_BLOCK_BYTES = 1 << 20
"""Bytes read per step outside the frames (other chunks, a trailing tag), only to be hashed."""
_FMT_BYTES = 40
"""The longest ``fmt `` body the rules look at (WAVE_FORMAT_EXTENSIBLE's); the rest is skipped."""

_WAVE_FORMAT_PCM = 0x0001
_WAVE_FORMAT_IEEE_FLOAT = 0x0003
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
_KSDATAFORMAT_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")
"""Bytes 2–15 of every KSDATAFORMAT_SUBTYPE GUID; bytes 0–1 hold the format tag."""

_FORMAT_NAMES = {
    _WAVE_FORMAT_PCM: "PCM",
    _WAVE_FORMAT_IEEE_FLOAT: "float",
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "µ-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
}
_NEEDED_CHUNKS = (b"fmt ", b"data")
_OTHER_FILE_TYPES = {
    b"ID3": "an MP3",
    b"\xff\xfb": "an MP3",
    b"\xff\xf3": "an MP3",
    b"\xff\xf2": "an MP3",
    b"fLaC": "a FLAC file",
    b"OggS": "an Ogg file",
    b"FORM": "an AIFF file",
    b"RF64": "an RF64 (64-bit) WAV",
    b"BW64": "a BW64 (64-bit) WAV",
    b"RIFX": "a big-endian WAV (RIFX)",
}
_HOW_TO_FIX = "export the stem as a standard WAV (PCM 16/24/32-bit or 32/64-bit float)"
_SEND_AGAIN = "it was cut off while being exported, copied or uploaded: send the whole file again"


@attrs.frozen(eq=False)
class Stem:
    """A decoded stem.

    audio : np.ndarray [shape=(n_samples,)], float32, 48 kHz; mid = 0.5·(L + R) for stereo
    """

    audio: np.ndarray
    source_sample_rate_hz: int
    source_channels: int
    source_format: str
    duration_s: float


@attrs.frozen
class _Encoding:
    """How one stored sample becomes a float: ``(value - offset) * scale`` (libsndfile's scale)."""

    name: str
    dtype: str
    scale: float
    offset: float = 0.0


# Keyed by (format tag, bits per sample). 24-bit samples are widened to the top three bytes
# of an int32 (value · 2^8), hence the 2^-31 scale.
_ENCODINGS = {
    (_WAVE_FORMAT_PCM, 8): _Encoding("PCM_U8", "u1", 2.0**-7, offset=128.0),
    (_WAVE_FORMAT_PCM, 16): _Encoding("PCM_16", "<i2", 2.0**-15),
    (_WAVE_FORMAT_PCM, 24): _Encoding("PCM_24", "<i4", 2.0**-31),
    (_WAVE_FORMAT_PCM, 32): _Encoding("PCM_32", "<i4", 2.0**-31),
    (_WAVE_FORMAT_IEEE_FLOAT, 32): _Encoding("FLOAT", "<f4", 1.0),
    (_WAVE_FORMAT_IEEE_FLOAT, 64): _Encoding("DOUBLE", "<f8", 1.0),
}


@attrs.frozen
class _Header:
    encoding: _Encoding
    channels: int
    sample_rate_hz: int
    bytes_per_sample: int
    data_offset: int
    n_frames: int
    file_bytes: int

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.sample_rate_hz


def read_stem(file: BinaryIO) -> tuple[Stem, str]:
    """Validate a WAV file and decode it to the 48 kHz mid signal, reading it once, in blocks.

    ``file`` is a seekable binary file, read from its start to its end. Returns the stem and
    the file's :func:`~voxregen_core.input_hash.input_hash`, computed as it is read.

    Raises the :class:`~voxregen_core.errors.InvalidInputError` subclass that names what is
    wrong: ``NotAWavError``, ``EmptyInputError``, ``TruncatedInputError``,
    ``TooManyChannelsError``, ``UnsupportedFormatError``, ``UnsupportedSampleRateError``,
    ``InputTooLongError``, ``InputTooShortError`` or ``NonFiniteSamplesError``.
    """
    header = _read_header(file)
    hasher = input_hasher()
    file.seek(0)
    _hash_to(file, header.data_offset, hasher.update)  # the header, any chunk before the frames
    # Reading, hashing and converting on one core, resampling on another.
    audio = _at_48k(in_background(_mid_blocks(file, header, hasher.update)), header)
    _hash_to(file, header.file_bytes, hasher.update)  # anything after the frames
    stem = Stem(
        audio=audio,
        source_sample_rate_hz=header.sample_rate_hz,
        source_channels=header.channels,
        source_format=header.encoding.name,
        duration_s=header.duration_s,
    )
    return stem, hasher.hexdigest()


def read_opened_stem(open_file: Callable[[], AbstractContextManager[BinaryIO]]) -> tuple[Stem, str]:
    """:func:`read_stem` of the file ``open_file`` opens (``ObjectStore.open``, ``Path.open``),
    closed once read; raises as :func:`read_stem` and as ``open_file``."""
    with open_file() as file:
        return read_stem(file)


def load_stem(data: bytes) -> Stem:
    """:func:`read_stem` of WAV bytes held in memory (a reference clip, a test); raises as it."""
    stem, _ = read_stem(io.BytesIO(data))
    return stem


def _read_header(file: BinaryIO) -> _Header:
    """Walk the RIFF chunks and apply every rule that the header alone decides."""
    file_bytes = file.seek(0, io.SEEK_END)
    start = _read_at(file, 0, 12)
    if file_bytes == 0:
        raise EmptyInputError(f"the file is empty (0 bytes); {_SEND_AGAIN}")
    if start[:4] == b"RIFF" and file_bytes < 12:
        raise TruncatedInputError(
            f"the file is cut short: {file_bytes} bytes of WAV header; {_SEND_AGAIN}"
        )
    if start[:4] != b"RIFF" or start[8:12] != b"WAVE":
        raise _not_a_wav(start)

    chunks = _find_chunks(file, file_bytes)
    fmt_offset, fmt_size = chunks[b"fmt "]
    encoding, channels, sample_rate_hz, block_align = _read_fmt(
        _read_at(file, fmt_offset, min(fmt_size, _FMT_BYTES))
    )
    data_offset, data_size = chunks[b"data"]
    header = _Header(
        encoding=encoding,
        channels=channels,
        sample_rate_hz=sample_rate_hz,
        bytes_per_sample=block_align // channels,
        data_offset=data_offset,
        n_frames=data_size // block_align,
        file_bytes=file_bytes,
    )
    if header.n_frames == 0:
        raise EmptyInputError(
            "the WAV holds no audio (0 frames); export the stem again with the vocal in it"
        )
    if header.duration_s > spec.MAX_INPUT_S:
        raise InputTooLongError(
            f"the stem is {header.duration_s:.1f} s long; the limit is {spec.MAX_INPUT_S:.0f} s "
            f"({spec.MAX_INPUT_S / 60:g} minutes): split it into shorter stems"
        )
    if header.duration_s < MIN_INPUT_S:
        raise InputTooShortError(
            f"the stem is {header.duration_s:.3f} s long; it must be at least {MIN_INPUT_S} s "
            "(one loudness block)"
        )
    return header


def _find_chunks(file: BinaryIO, file_bytes: int) -> dict[bytes, tuple[int, int]]:
    """Body offset and declared size of the ``fmt `` and ``data`` chunks."""
    found: dict[bytes, tuple[int, int]] = {}
    position = 12
    while position + 8 <= file_bytes and len(found) < len(_NEEDED_CHUNKS):
        chunk_id, chunk_size = struct.unpack("<4sI", _read_at(file, position, 8))
        body = position + 8
        if body + chunk_size > file_bytes:
            raise _truncated(f"its {_chunk_name(chunk_id)} chunk", chunk_size, file_bytes - body)
        if chunk_id in _NEEDED_CHUNKS:
            found.setdefault(chunk_id, (body, chunk_size))
        position = body + chunk_size + (chunk_size & 1)  # RIFF: chunks are word-aligned
    missing = [chunk_id for chunk_id in _NEEDED_CHUNKS if chunk_id not in found]
    if missing:
        (riff_size,) = struct.unpack("<I", _read_at(file, 4, 4))
        if riff_size + 8 > file_bytes:
            raise _truncated("its RIFF header", riff_size + 8, file_bytes)
        raise NotAWavError(
            f"the WAV is damaged: it has no {_chunk_name(missing[0])} chunk; {_HOW_TO_FIX}"
        )
    return found


def _read_fmt(body: bytes) -> tuple[_Encoding, int, int, int]:
    """Encoding, channels, sample rate and block alignment from a ``fmt `` chunk body."""
    if len(body) < 16:
        raise NotAWavError(f"the WAV header is damaged: its 'fmt ' chunk is {len(body)} bytes")
    format_tag, channels, sample_rate_hz, _, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if channels == 0:
        raise NotAWavError("the WAV header is damaged: it declares 0 channels")
    if channels > 2:
        raise TooManyChannelsError(
            f"the WAV has {channels} channels; voxregen takes mono or stereo stems: "
            "export the vocal as a mono or stereo WAV"
        )
    if format_tag == _WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 40 or body[26:40] != _KSDATAFORMAT_GUID_TAIL:
            raise UnsupportedFormatError(
                f"the WAV uses an unknown extensible encoding; {_HOW_TO_FIX}"
            )
        (format_tag,) = struct.unpack_from("<H", body, 24)
    encoding = _ENCODINGS.get((format_tag, bits))
    if encoding is None:
        name = _FORMAT_NAMES.get(format_tag, f"format 0x{format_tag:04x}")
        if format_tag in (_WAVE_FORMAT_PCM, _WAVE_FORMAT_IEEE_FLOAT):
            name = f"{bits}-bit {name}"
        raise UnsupportedFormatError(
            f"the WAV is encoded as {name}, which voxregen does not read; {_HOW_TO_FIX}"
        )
    if block_align != channels * bits // 8:
        raise NotAWavError(
            f"the WAV header is damaged: {channels} channel(s) of {bits}-bit samples "
            f"need {channels * bits // 8} bytes per frame, it declares {block_align}"
        )
    if not MIN_SAMPLE_RATE_HZ <= sample_rate_hz <= MAX_SAMPLE_RATE_HZ:
        raise UnsupportedSampleRateError(
            f"the sample rate is {sample_rate_hz} Hz; voxregen accepts "
            f"{MIN_SAMPLE_RATE_HZ} to {MAX_SAMPLE_RATE_HZ} Hz"
        )
    return encoding, channels, sample_rate_hz, block_align


def _mid_blocks(
    file: BinaryIO, header: _Header, update_hash: Callable[[bytes], None]
) -> Iterator[np.ndarray]:
    """The mid of the ``data`` chunk's frames at the source rate, float32, block by block, read
    (and given to ``update_hash``) from the file's position, the frames' start. Each block is an
    array of its own (they are made ahead of their use, :func:`read_stem`); non-finite samples
    are refused once all are read."""
    encoding, channels = header.encoding, header.channels
    frame_bytes = channels * header.bytes_per_sample
    frames_stop = header.data_offset + header.n_frames * frame_bytes
    gain = encoding.scale / channels
    checks_finite = np.dtype(encoding.dtype).kind == "f"
    n_non_finite, first_non_finite, start = 0, 0, 0
    for data in _blocks(file, frames_stop, _BLOCK_FRAMES * frame_bytes, update_hash):
        frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, channels, header.bytes_per_sample)
        block = np.empty(frames.shape[0], dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite floats are refused below
            _convert(frames, encoding, gain, out=block)
        if checks_finite:
            bad = np.flatnonzero(~np.isfinite(block))
            if bad.size and not n_non_finite:
                first_non_finite = start + int(bad[0])
            n_non_finite += bad.size
        yield block
        start += block.size
    if n_non_finite:
        raise NonFiniteSamplesError(
            f"the WAV holds {n_non_finite} NaN or infinite sample value(s), the first at "
            f"{first_non_finite / header.sample_rate_hz:.3f} s; re-export the stem, e.g. as "
            "24-bit PCM"
        )


def _at_48k(mid_blocks: Iterable[np.ndarray], header: _Header) -> np.ndarray:
    """The mid blocks end to end at 48 kHz, in one buffer.

    Another rate goes through soxr's streaming resampler: sample for sample what
    ``soxr.resample`` gives for the whole signal at once, cut, as it is, at its output buffer's
    capacity (n·48000/rate + 1): the output length rule is soxr's one-shot rule.
    """
    if header.sample_rate_hz == spec.SAMPLE_RATE_HZ:
        return _joined(mid_blocks, capacity=header.n_frames)
    stream = soxr.ResampleStream(
        header.sample_rate_hz, spec.SAMPLE_RATE_HZ, 1, dtype="float32", quality=RESAMPLE_QUALITY
    )
    capacity = header.n_frames * spec.SAMPLE_RATE_HZ // header.sample_rate_hz + 1
    return _joined(_resampled(stream, mid_blocks), capacity=capacity)


def _resampled(stream: soxr.ResampleStream, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """What ``stream`` gives for each of ``blocks``, then the rest it holds."""
    for block in blocks:
        yield stream.resample_chunk(block)
    yield stream.resample_chunk(np.empty(0, dtype=np.float32), last=True)  # the filter's tail


def _joined(blocks: Iterable[np.ndarray], *, capacity: int) -> np.ndarray:
    """``blocks`` end to end in one float32 buffer of ``capacity`` samples, cut at it."""
    joined = np.empty(capacity, dtype=np.float32)
    filled = 0
    for block in blocks:
        block = block[: capacity - filled]
        joined[filled : filled + block.size] = block
        filled += block.size
    return joined[:filled]


def _hash_to(file: BinaryIO, stop: int, update_hash: Callable[[bytes], None]) -> None:
    """Read the file from its position to offset ``stop``, only to hash it."""
    for _ in _blocks(file, stop, _OTHER_BLOCK_BYTES, update_hash):
        pass


def _blocks(
    file: BinaryIO, stop: int, block_bytes: int, update_hash: Callable[[bytes], None]
) -> Iterator[bytes]:
    """The file's bytes from its position to offset ``stop``, in blocks of ``block_bytes``
    (the last may be shorter), each given to ``update_hash`` as it is read."""
    while (left := stop - file.tell()) > 0:
        data = file.read(min(block_bytes, left))
        if len(data) < min(block_bytes, left):  # the file shrank since its size was read
            raise TruncatedInputError(
                f"the file is cut short: it ended at byte {file.tell()} while being read; "
                f"{_SEND_AGAIN}"
            )
        update_hash(data)
        yield data


def _read_at(file: BinaryIO, offset: int, n_bytes: int) -> bytes:
    """Up to ``n_bytes`` from ``offset`` (fewer at the end of the file)."""
    file.seek(offset)
    return file.read(n_bytes)


def _convert(block: np.ndarray, encoding: _Encoding, gain: float, *, out: np.ndarray) -> None:
    """Write the mid of ``block`` (n, channels, bytes per sample) into ``out[:n]``."""

    n_frames, channels, bytes_per_sample = block.shape
    samples = _widened(block) if bytes_per_sample == 3 else block
    samples = samples.view(encoding.dtype)[..., 0]  # (n, channels)
    out = out[:n_frames]
    if channels == 2:
        np.add(samples[:, 0], samples[:, 1], out=out, dtype=np.float32)
    else:
        out[:] = samples[:, 0]
    if encoding.offset:
        out -= encoding.offset * channels
    out *= gain


def _widened(block: np.ndarray) -> np.ndarray:
    """24-bit little-endian samples placed in the top three bytes of 4-byte words.

    Each word is read at once from the bytes one place before its sample (a strided int32 view
    of the block behind one pad byte) and its low byte, the previous sample's last, cleared:
    two passes of whole words instead of a byte-wise copy into a zeroed buffer (6x faster here).
    """
    padded = np.empty(block.size + 1, dtype=np.uint8)
    padded[1:] = block.reshape(-1)
    words = np.ndarray(shape=(block.size // 3,), dtype="<i4", buffer=padded, strides=(3,))
    widened = np.bitwise_and(words, np.int32(-256))
    return widened.reshape(block.shape[:-1] + (1,)).view(np.uint8)


def _not_a_wav(data: bytes) -> Exception:
    for magic, kind in _OTHER_FILE_TYPES.items():
        if data.startswith(magic):
            error = UnsupportedFormatError if "WAV" in kind else NotAWavError
            return error(f"the file is {kind}, not a WAV; {_HOW_TO_FIX}")
    if data[:4] == b"RIFF":
        return NotAWavError(
            f"the file is a RIFF {_chunk_name(data[8:12])} file, not a WAV; {_HOW_TO_FIX}"
        )
    return NotAWavError(f"the file is not a WAV (it starts with {data[:8]!r}); {_HOW_TO_FIX}")


def _truncated(what: str, declared: int, present: int) -> TruncatedInputError:
    return TruncatedInputError(
        f"the file is cut short: {what} declares {declared} bytes but only {present} are "
        f"present; {_SEND_AGAIN}"
    )


def _chunk_name(chunk_id: bytes) -> str:
    """A chunk id as a producer reads it, quoted, any odd byte escaped: 'fmt ', 'LIST'."""
    return repr(chunk_id)[1:]
