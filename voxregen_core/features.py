"""Stem features, version ``v1``: what the generator conditions on, cached per input.

Frame ``i`` describes the stem around ``t = i * hop_s`` seconds; a stem of ``n`` samples at
48 kHz has ``n // hop_samples + 1`` frames.
"""

import math

import attrs
import numpy as np


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
