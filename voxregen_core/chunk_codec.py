"""How a generated chunk is stored: a float32 mono 48 kHz WAV that names its provenance.

A stored chunk is reused (resume, redelivery) only if its provenance matches the render
asking for it, so a chunk made from other params, another input or another job is never
stitched into an output by mistake. The provenance travels in the WAV's INFO comment, after
the CRC-32 of the samples' bytes: a chunk whose samples do not match it (a file cut short or
zeroed by a crash: a chunk is temporary, so a local store does not fsync it) reads as no chunk,
and is generated again.
"""

import io
import zlib

import numpy as np
import soundfile as sf

from voxregen_core import spec

_PREFIX = "voxregen-chunk:"


def encode_chunk(audio: np.ndarray, *, provenance: str) -> bytes:
    """WAV bytes of ``audio`` (np.ndarray [shape=(n,)], float32, 48 kHz), exact to the bit."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", spec.SAMPLE_RATE_HZ, 1, "FLOAT", format="WAV") as wav:
        wav.comment = f"{_PREFIX}{_crc(audio)}:{provenance}"
        wav.write(audio)
    return buffer.getvalue()


def decode_chunk(data: bytes) -> tuple[np.ndarray, str | None]:
    """The chunk's audio (float32) and provenance; provenance None if the bytes are not a
    readable voxregen chunk, or its samples are not the ones it was stored with (the caller
    then regenerates it)."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as wav:
            comment = wav.comment or ""
            if wav.samplerate != spec.SAMPLE_RATE_HZ or wav.channels != 1:
                return np.zeros(0, np.float32), None
            audio = wav.read(dtype="float32")
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return np.zeros(0, np.float32), None
    crc, _, provenance = comment.removeprefix(_PREFIX).partition(":")
    if not comment.startswith(_PREFIX) or crc != _crc(audio):
        return audio, None
    return audio, provenance


def _crc(audio: np.ndarray) -> str:
    """CRC-32 of the samples' bytes, 8 hex digits."""
    return f"{zlib.crc32(audio):08x}"
