"""How a generated chunk is stored: a float32 mono 48 kHz WAV that names its provenance.

A stored chunk is reused (resume, redelivery) only if its provenance matches the render
asking for it, so a chunk made from other params, another input or another job is never
stitched into an output by mistake. The provenance travels in the WAV's INFO comment, after
the CRC-32 of the samples' bytes: a chunk whose samples do not match it (a file cut short or
zeroed by a crash, where ``voxregen render``'s store does not fsync chunks) reads as no chunk,
and is generated again.
"""

import io
import struct
import zlib

import numpy as np
import soundfile as sf

from voxregen_core import spec

_PREFIX = "voxregen-chunk:"
_IEEE_FLOAT = 3
"""WAVE_FORMAT_IEEE_FLOAT."""


def encode_chunk(audio: np.ndarray, *, provenance: str) -> bytes:
    """WAV bytes of ``audio`` (np.ndarray [shape=(n,)], float32, 48 kHz), exact to the bit.

    The RIFF is laid out here rather than by libsndfile (through a growing ``BytesIO``): one copy
    of the samples, 0.3 ms for a chunk instead of 2.2. It is what libsndfile writes, less its
    ``PEAK`` chunk: ``fmt `` (IEEE float, mono, 32 bit), ``fact``, the comment in
    ``LIST``/``INFO``/``ICMT``, then ``data``.
    """
    samples = np.ascontiguousarray(audio, dtype="<f4")
    comment = f"{_PREFIX}{_crc(samples)}:{provenance}".encode() + b"\0"
    fmt = struct.pack(
        "<HHIIHH", _IEEE_FLOAT, 1, spec.SAMPLE_RATE_HZ, 4 * spec.SAMPLE_RATE_HZ, 4, 32
    )
    body = b"".join(
        [
            b"WAVE",
            _chunk(b"fmt ", fmt),
            _chunk(b"fact", struct.pack("<I", samples.shape[0])),
            _chunk(b"LIST", b"INFO" + _chunk(b"ICMT", comment)),
            b"data",
            struct.pack("<I", samples.nbytes),
        ]
    )
    riff = b"RIFF" + struct.pack("<I", len(body) + samples.nbytes)
    return b"".join([riff, body, samples.data])


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


def _chunk(chunk_id: bytes, data: bytes) -> bytes:
    """A RIFF chunk: its id, its size, its data, and a pad byte if the size is odd."""
    return chunk_id + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)


def _crc(audio: np.ndarray) -> str:
    """CRC-32 of the samples' bytes, 8 hex digits."""
    return f"{zlib.crc32(audio):08x}"
