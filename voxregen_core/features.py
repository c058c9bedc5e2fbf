"""Stem features, version :data:`~voxregen_core.spec.FEATURE_VERSION` (``v1``): what the
generator conditions on, cached per input.

Frame ``i`` describes the stem around ``t = i * hop_s`` seconds; a stem of ``n`` samples at
48 kHz has ``n // hop_samples + 1`` frames.
"""

import math

import attrs
import numpy as np

from voxregen_core import spec, units
from voxregen_core.pitch import estimate_f0
from voxregen_core.validation import checked_mono_float, checked_sample_rate_hz


@attrs.frozen
class ContentPlaceholder:
    """Metadata of the content-token stream a future model will use (no tokens in v1)."""

    token_rate_hz: float
    n_tokens: int


@attrs.frozen(eq=False)
class Features:
    """Per-frame features of one stem (or of one chunk's stretch of it).

    f0_hz : np.ndarray [shape=(n_frames,)], float32, Hz; 0.0 where unvoiced
    voiced : np.ndarray [shape=(n_frames,)], bool
    rms_db : np.ndarray [shape=(n_frames,)], float32, dBFS of a 25 ms window; -120 floor
    """

    feature_version: str
    sample_rate_hz: int
    hop_s: float
    f0_hz: np.ndarray
    voiced: np.ndarray
    rms_db: np.ndarray
    content: ContentPlaceholder
    duration_s: float

    @property
    def n_frames(self) -> int:
        return int(self.f0_hz.shape[0])

    @property
    def hop_samples(self) -> int:
        return int(round(self.hop_s * self.sample_rate_hz))

    def for_samples(self, start: int, stop: int) -> "Features":
        """The frames describing samples ``[start, stop)`` (a chunk), times re-based to start."""
        first = start // self.hop_samples
        last = min(self.n_frames, (stop - 1) // self.hop_samples + 1) if stop > start else first
        duration_s = (stop - start) / self.sample_rate_hz
        return attrs.evolve(
            self,
            f0_hz=self.f0_hz[first:last],
            voiced=self.voiced[first:last],
            rms_db=self.rms_db[first:last],
            content=ContentPlaceholder(
                token_rate_hz=self.content.token_rate_hz,
                n_tokens=math.ceil(duration_s * self.content.token_rate_hz),
            ),
            duration_s=duration_s,
        )

    def f0_stats(self) -> dict[str, float | None]:
        """Median and 90th-percentile f0 of voiced frames, and the voiced share in percent."""
        voiced_f0 = self.f0_hz[self.voiced]
        return {
            "f0_p50_hz": float(np.percentile(voiced_f0, 50)) if voiced_f0.size else None,
            "f0_p90_hz": float(np.percentile(voiced_f0, 90)) if voiced_f0.size else None,
            "voiced_pct": float(100.0 * voiced_f0.size / max(1, self.n_frames)),
        }

    def same_as(self, other: "Features") -> bool:
        """Field-by-field equality, arrays compared exactly."""
        return (
            self.feature_version == other.feature_version
            and self.sample_rate_hz == other.sample_rate_hz
            and self.hop_s == other.hop_s
            and self.content == other.content
            and self.duration_s == other.duration_s
            and all(
                np.array_equal(getattr(self, name), getattr(other, name))
                and getattr(self, name).dtype == getattr(other, name).dtype
                for name in ("f0_hz", "voiced", "rms_db")
            )
        )


V1_HOP_S = 0.010
V1_TOKEN_RATE_HZ = 50.0

V1_RMS_WINDOW_S = 0.025
V1_RMS_FLOOR_DB = -120.0


def extract_features(audio: np.ndarray, *, sample_rate_hz: int) -> Features:
    """The features of a stem at :data:`~voxregen_core.spec.FEATURE_VERSION`: YIN f0 and
    voicing, the RMS curve, content metadata.

    audio : np.ndarray [shape=(n_samples,)], float32, mono (48 kHz from ``read_stem``)
    """
    audio = checked_mono_float(audio, name="audio")
    checked_sample_rate_hz(sample_rate_hz)
    pitch = estimate_f0(audio, sample_rate_hz=sample_rate_hz, hop_s=V1_HOP_S)
    duration_s = units.samples_to_seconds(audio.shape[0], sample_rate_hz=sample_rate_hz)
    return Features(
        feature_version=spec.FEATURE_VERSION,
        sample_rate_hz=sample_rate_hz,
        hop_s=V1_HOP_S,
        f0_hz=pitch.f0_hz,
        voiced=pitch.voiced,
        rms_db=_rms_db(
            audio,
            hop_samples=units.seconds_to_samples(V1_HOP_S, sample_rate_hz=sample_rate_hz),
            window_samples=units.seconds_to_samples(V1_RMS_WINDOW_S, sample_rate_hz=sample_rate_hz),
        ),
        content=ContentPlaceholder(
            token_rate_hz=V1_TOKEN_RATE_HZ,
            n_tokens=math.ceil(duration_s * V1_TOKEN_RATE_HZ),
        ),
        duration_s=duration_s,
    )


def _rms_db(audio: np.ndarray, *, hop_samples: int, window_samples: int) -> np.ndarray:
    """RMS level (dBFS, floored) of a window centred on each frame; zeros outside the audio.

    Windows are summed from the energies of blocks that tile every window exactly (120
    samples at 48 kHz), so no running sum over the whole stem can lose the quiet frames.
    """
    half = window_samples // 2
    block = math.gcd(hop_samples, window_samples, half)
    n_frames = audio.shape[0] // hop_samples + 1
    n_full = audio.shape[0] // block
    energy = np.zeros((half + n_frames * hop_samples + window_samples) // block)
    blocks = audio[: n_full * block].reshape(n_full, block)
    energy[half // block :][:n_full] = np.einsum("ij,ij->i", blocks, blocks)
    energy[half // block + n_full] = np.square(audio[n_full * block :], dtype=np.float64).sum()
    windows = np.lib.stride_tricks.sliding_window_view(energy, window_samples // block)
    mean_square = windows[:: hop_samples // block][:n_frames].sum(axis=1) / window_samples
    return np.maximum(units.power_to_db(mean_square), V1_RMS_FLOOR_DB).astype(np.float32)
