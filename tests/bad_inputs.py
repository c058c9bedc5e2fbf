"""The bad-input corpus: stems a producer might upload, generated here (no binary fixtures),
each with the outcome voxregen promises for it (docs/input.md, "What happens to your file").

An outcome is either ``RENDERS`` or the stable error code of the refusal; ``says`` is a phrase
the refusal's message must contain, so that the producer reads what is wrong. Valid cases are
2 s long (one chunk) to keep the renders quick.
"""

import struct

import attrs
import numpy as np

from tests.signals import synthetic_singing, wav_bytes
from voxregen_core import spec

RENDERS = "renders"
CASE_S = 2.0


@attrs.frozen
class BadInput:
    name: str
    data: bytes = attrs.field(repr=False)
    outcome: str
    """``RENDERS`` or the refusal's error code."""
    says: str = ""
    """A phrase the refusal's message contains."""

    @property
    def renders(self) -> bool:
        return self.outcome == RENDERS


def singing_wav(*, rate_hz: int = 48_000, subtype: str = "PCM_16", channels: int = 1) -> bytes:
    """``CASE_S`` of synthetic singing at ``rate_hz``, copied to ``channels`` channels."""
    mono = synthetic_singing(CASE_S, seed=11, fs=rate_hz).audio
    return wav_bytes(np.repeat(mono[:, None], channels, axis=1), fs=rate_hz, subtype=subtype)


def _with_sample(value: float) -> bytes:
    """A 32-bit float stem holding ``value`` once, at 1.0 s."""
    audio = synthetic_singing(CASE_S, seed=11).audio
    audio[48_000] = value
    return wav_bytes(audio, subtype="FLOAT")


def _mp3_frame() -> bytes:
    """An MPEG-1 Layer III frame header (128 kb/s, 44.1 kHz) and its zeroed 417-byte frame."""
    return b"\xff\xfb\x90\x64" + bytes(413)


def _id3_mp3() -> bytes:
    """An MP3 as most encoders write it: an ID3v2.4 tag (empty), then MPEG frames."""
    return b"ID3\x04\x00\x00" + struct.pack(">I", 0) + _mp3_frame() * 8


def _cut_data_chunk(wav: bytes) -> bytes:
    """``wav`` with its last half gone: its ``data`` chunk declares more than is present."""
    return wav[: len(wav) // 2]


def _over_eight_minutes() -> bytes:
    """8 min 1 s of 8 kHz 8-bit mono silence: 3.8 MB, the cheapest over-long stem."""
    return wav_bytes(np.zeros(int((spec.MAX_INPUT_S + 1.0) * 8_000)), fs=8_000, subtype="PCM_U8")


_VALID = singing_wav()
SILENCE = wav_bytes(np.zeros(int(CASE_S * 48_000)), subtype="PCM_16")

CORPUS = (
    BadInput("mp3_with_id3_tag", _id3_mp3(), "not_a_wav", "the file is an MP3, not a WAV"),
    BadInput("mp3_frame_sync", _mp3_frame() * 8, "not_a_wav", "the file is an MP3, not a WAV"),
    BadInput(
        "random_bytes",
        np.random.default_rng(5).bytes(4096),
        "not_a_wav",
        "the file is not a WAV",
    ),
    BadInput(
        "text_file",
        b"Verse 1 lyrics, take 3\nnot audio, just a text file named .wav\n",
        "not_a_wav",
        "the file is not a WAV",
    ),
    BadInput("empty_file", b"", "empty_input", "the file is empty"),
    BadInput("header_cut_short", _VALID[:20], "truncated_input", "the file is cut short"),
    BadInput("data_chunk_short", _cut_data_chunk(_VALID), "truncated_input", "'data' chunk"),
    BadInput(
        "six_channels", singing_wav(channels=6), "too_many_channels", "the WAV has 6 channels"
    ),
    BadInput("nan_sample", _with_sample(np.nan), "non_finite_samples", "first at 1.000 s"),
    BadInput("inf_sample", _with_sample(np.inf), "non_finite_samples", "NaN or infinite"),
    BadInput("over_8_minutes", _over_eight_minutes(), "input_too_long", "the limit is 480 s"),
    BadInput("zero_samples", wav_bytes(np.zeros(0)), "empty_input", "no audio (0 frames)"),
    BadInput(
        "too_short", wav_bytes(np.zeros(9_600)), "input_too_short", "it must be at least 0.4 s"
    ),
    BadInput("silence", SILENCE, RENDERS),
    BadInput("pcm_8_bit", singing_wav(subtype="PCM_U8"), RENDERS),
    BadInput("float_64_bit_stereo", singing_wav(subtype="DOUBLE", channels=2), RENDERS),
    BadInput("rate_8_khz", singing_wav(rate_hz=8_000), RENDERS),
    BadInput("rate_192_khz", singing_wav(rate_hz=192_000, subtype="PCM_24"), RENDERS),
)
REFUSED = tuple(case for case in CORPUS if not case.renders)
VALID = tuple(case for case in CORPUS if case.renders)
AUDIBLE = tuple(case for case in VALID if case.data != SILENCE)
"""The valid cases that are mastered to the loudness target (silence has no loudness)."""
