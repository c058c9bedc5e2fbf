"""How a generated chunk is stored: a float32 mono 48 kHz WAV that names its provenance.

A stored chunk is reused (resume, redelivery) only if its provenance matches the render
asking for it, so a chunk made from other params, another input or another job is never
stitched into an output by mistake. The provenance travels in the WAV's INFO comment.
"""

import io

import numpy as np
import soundfile as sf

from voxregen_core import spec

_PREFIX = "voxregen-chunk:"


def encode_chunk(audio: np.ndarray, *, provenance: str) -> bytes:
    """WAV bytes of ``audio`` (np.ndarray [shape=(n,)], float32, 48 kHz), exact to the bit."""
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", spec.SAMPLE_RATE_HZ, 1, "FLOAT", format="WAV") as wav:
        wav.comment = _PREFIX + provenance
        wav.write(audio)
    return buffer.getvalue()


def decode_chunk(data: bytes) -> tuple[np.ndarray, str | None]:
    """The chunk's audio (float32) and provenance; provenance None if the bytes are not a
    readable voxregen chunk (the caller then regenerates it)."""
    try:
        with sf.SoundFile(io.BytesIO(data)) as wav:
            comment = wav.comment or ""
            if wav.samplerate != spec.SAMPLE_RATE_HZ or wav.channels != 1:
                return np.zeros(0, np.float32), None
            audio = wav.read(dtype="float32")
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return np.zeros(0, np.float32), None
    provenance = comment[len(_PREFIX) :] if comment.startswith(_PREFIX) else None
    return audio, provenance
