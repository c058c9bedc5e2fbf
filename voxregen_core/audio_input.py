"""Input rules: which WAV files voxregen accepts, and their decoding to a 48 kHz mid signal.

The RIFF structure is parsed here (not by a library) so that every refusal is precise and
typed: the file walks chunk by chunk (word-aligned, any order, unknown chunks such as ``LIST``
or ``bext`` skipped) to ``fmt `` and ``data``; the limits are checked from the header before a
single sample is decoded; then the samples are read through numpy views on the ``data``
chunk, block by block, into one preallocated float32 mid buffer, and resampled with soxr.
Decoding the bytes we validated, rather than handing them to a second parser, means the
rules and the decoder cannot disagree about a file. The rules are listed in docs/input.md.
"""

import struct

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

MIN_SAMPLE_RATE_HZ = 8_000
MAX_SAMPLE_RATE_HZ = 384_000
MIN_INPUT_S = 0.4
"""One BS.1770-4 gating block: the shortest stem whose loudness can be measured."""

RESAMPLE_QUALITY = "HQ"
"""soxr's 'HQ' preset: 20-bit precision, passband to 91% of Nyquist, linear phase."""

_BLOCK_FRAMES = 1 << 16
"""Frames converted per step: bounds the temporaries to about a megabyte."""

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

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.sample_rate_hz


def load_stem(data: bytes) -> Stem:
    """Validate WAV bytes and decode them to the 48 kHz mid signal.

    Raises the :class:`~voxregen_core.errors.InvalidInputError` subclass that names what is
    wrong: ``NotAWavError``, ``EmptyInputError``, ``TruncatedInputError``,
    ``TooManyChannelsError``, ``UnsupportedFormatError``, ``UnsupportedSampleRateError``,
    ``InputTooLongError``, ``InputTooShortError`` or ``NonFiniteSamplesError``.
    """
    header = _read_header(data)
    mid = _decode_mid(data, header)
    if header.sample_rate_hz != spec.SAMPLE_RATE_HZ:
        mid = soxr.resample(
            mid, header.sample_rate_hz, spec.SAMPLE_RATE_HZ, quality=RESAMPLE_QUALITY
        )
    return Stem(
        audio=mid,
        source_sample_rate_hz=header.sample_rate_hz,
        source_channels=header.channels,
        source_format=header.encoding.name,
        duration_s=header.duration_s,
    )


def _read_header(data: bytes) -> _Header:
    """Walk the RIFF chunks and apply every rule that the header alone decides."""
    if len(data) == 0:
        raise EmptyInputError(f"the file is empty (0 bytes); {_SEND_AGAIN}")
    if data[:4] == b"RIFF" and len(data) < 12:
        raise TruncatedInputError(
            f"the file is cut short: {len(data)} bytes of WAV header; {_SEND_AGAIN}"
        )
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _not_a_wav(data)

    chunks = _find_chunks(data)
    fmt_offset, fmt_size = chunks[b"fmt "]
    encoding, channels, sample_rate_hz, block_align = _read_fmt(
        data[fmt_offset : fmt_offset + fmt_size]
    )
    data_offset, data_size = chunks[b"data"]
    header = _Header(
        encoding=encoding,
        channels=channels,
        sample_rate_hz=sample_rate_hz,
        bytes_per_sample=block_align // channels,
        data_offset=data_offset,
        n_frames=data_size // block_align,
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


def _find_chunks(data: bytes) -> dict[bytes, tuple[int, int]]:
    """Body offset and declared size of the ``fmt `` and ``data`` chunks."""
    found: dict[bytes, tuple[int, int]] = {}
    position = 12
    while position + 8 <= len(data) and len(found) < len(_NEEDED_CHUNKS):
        chunk_id, chunk_size = struct.unpack_from("<4sI", data, position)
        body = position + 8
        if body + chunk_size > len(data):
            raise _truncated(f"its {_chunk_name(chunk_id)} chunk", chunk_size, len(data) - body)
        if chunk_id in _NEEDED_CHUNKS:
            found.setdefault(chunk_id, (body, chunk_size))
        position = body + chunk_size + (chunk_size & 1)  # RIFF: chunks are word-aligned
    missing = [chunk_id for chunk_id in _NEEDED_CHUNKS if chunk_id not in found]
    if missing:
        (riff_size,) = struct.unpack_from("<I", data, 4)
        if riff_size + 8 > len(data):
            raise _truncated("its RIFF header", riff_size + 8, len(data))
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


def _decode_mid(data: bytes, header: _Header) -> np.ndarray:
    """The mid signal at the source rate, float32, converted block by block."""
    encoding, channels = header.encoding, header.channels
    frames = np.frombuffer(
        data,
        dtype=np.uint8,
        count=header.n_frames * channels * header.bytes_per_sample,
        offset=header.data_offset,
    ).reshape(header.n_frames, channels, header.bytes_per_sample)
    mid = np.empty(header.n_frames, dtype=np.float32)
    gain = encoding.scale / channels
    with np.errstate(over="ignore", invalid="ignore"):  # non-finite floats are refused below
        for start in range(0, header.n_frames, _BLOCK_FRAMES):
            _convert(frames[start : start + _BLOCK_FRAMES], encoding, gain, out=mid[start:])
    _check_finite(mid, header)
    return mid


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
    """24-bit little-endian samples placed in the top three bytes of 4-byte words."""
    wide = np.zeros(block.shape[:-1] + (4,), dtype=np.uint8)
    wide[..., 1:] = block
    return wide


def _check_finite(mid: np.ndarray, header: _Header) -> None:
    if np.dtype(header.encoding.dtype).kind == "f":
        bad = np.flatnonzero(~np.isfinite(mid))
        if bad.size:
            raise NonFiniteSamplesError(
                f"the WAV holds {bad.size} NaN or infinite sample value(s), the first at "
                f"{bad[0] / header.sample_rate_hz:.3f} s; re-export the stem, e.g. as 24-bit PCM"
            )


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
