"""A WAV file's duration from its RIFF header alone, with the standard library: the chunks are
walked (word-aligned, in any order, unknown ones such as ``LIST`` skipped) to ``fmt `` (its
sample rate and block alignment) and ``data`` (its size), and no sample is read. Any encoding
the service accepts (PCM of 8 to 32 bits, 32- or 64-bit float, WAVE_FORMAT_EXTENSIBLE, any
channel count) has ``frames = data bytes / block alignment``.

The service measures the clip itself when it decodes it; this duration is only the advisory
``duration_sec`` of a reference's commit, so a file this reader cannot make sense of yields
``None`` rather than an error (the service's refusal names the problem precisely).
"""

import os
import struct
from typing import BinaryIO

_RIFF_HEADER = struct.Struct("<4sI4s")
_CHUNK_HEADER = struct.Struct("<4sI")
_FMT = struct.Struct("<HHIIHH")  # format tag, channels, rate, byte rate, block align, bits


def wav_duration_s(path: str | os.PathLike[str]) -> float | None:
    """The duration in seconds of the WAV file at ``path``, or None if its header is not a
    RIFF/WAVE one with a ``fmt `` chunk before its ``data`` chunk."""
    with open(path, "rb") as file:
        return _duration_s(file)


def _duration_s(file: BinaryIO) -> float | None:
    header = file.read(_RIFF_HEADER.size)
    if len(header) < _RIFF_HEADER.size:
        return None
    riff, _, wave = _RIFF_HEADER.unpack(header)
    if riff != b"RIFF" or wave != b"WAVE":
        return None
    sample_rate_hz = block_align_bytes = None
    while len(chunk := file.read(_CHUNK_HEADER.size)) == _CHUNK_HEADER.size:
        chunk_id, size_bytes = _CHUNK_HEADER.unpack(chunk)
        if chunk_id == b"fmt ":
            body = file.read(size_bytes + size_bytes % 2)
            if len(body) < _FMT.size:
                return None
            _, _, sample_rate_hz, _, block_align_bytes, _ = _FMT.unpack_from(body)
        elif chunk_id == b"data":
            if not sample_rate_hz or not block_align_bytes:
                return None
            return size_bytes // block_align_bytes / sample_rate_hz
        else:
            file.seek(size_bytes + size_bytes % 2, os.SEEK_CUR)
    return None
