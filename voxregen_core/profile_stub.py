"""The v1 singer-profile build: reference quality checks and placeholder embeddings (no ML).

A stub, like :mod:`voxregen_core.stub_generator`: the embeddings are unit vectors drawn from a
random generator seeded with each reference file's sha256, so they identify the files, not
the voice. What is real is the quality check (:func:`assess_reference`), which decides which
references a profile is built from. A model-based build will keep the inputs and outputs and
change ``EMBEDDING_VERSION``.

Embeddings are float32, little-endian, ``EMBEDDING_DIMS`` wide:

- per reference: the seeded unit vector;
- ``profile_embedding``: the normalized mean of the accepted references' vectors;
- ``cluster_embeddings``: ``k = min(4, n_accepted)`` rows, the normalized means of ``k``
  groups of accepted references taken in content-hash order.

Everything is taken in content-hash order, so the build does not depend on the order in
which references were uploaded.
"""

import uuid
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from voxregen_core import units
from voxregen_core.errors import InvalidInputError, InvalidParamsError
from voxregen_core.profiles import SingerExemplar

EMBEDDING_VERSION = "stub-v1"
EMBEDDING_DIMS = 256
MAX_CLUSTERS = 4
_EMBEDDING_DTYPE = np.dtype("<f4")

MIN_DURATION_S = 3.0
CLIP_LEVEL = 0.999
"""A sample at or above this magnitude (-0.009 dBFS) counts as clipped."""
MAX_CLIPPING_PCT = 1.0
FRAME_S = 0.020
"""Frames of the silence and noise-floor measurements: 20 ms, not overlapping."""
SILENCE_DBFS = -60.0
"""A frame whose RMS is below this is silent."""
MAX_SILENCE_PCT = 80.0
NOISE_FLOOR_PERCENTILE = 2.0
MIN_SNR_DB = 20.0
FLOOR_DBFS = -120.0
"""Levels are reported no lower than this (digital silence would be -inf)."""


@attrs.frozen(eq=False)
class ReferenceAudio:
    """One reference clip of a singer profile, decoded.

    content_hash : sha256 hex (64 lowercase digits) of the reference file's bytes
    audio : np.ndarray [shape=(n_samples,)], float32, 48 kHz mono
    """

    ref_id: uuid.UUID
    content_hash: str = attrs.field(validator=attrs.validators.matches_re(r"[0-9a-f]{64}"))
    audio: np.ndarray


@attrs.frozen
class ReferenceQuality:
    """Level and cleanliness of one reference, and why it cannot be used (if so).

    A reference is rejected (``problems`` is not empty) when it is

    - shorter than ``MIN_DURATION_S`` (3 s);
    - clipped on more than ``MAX_CLIPPING_PCT`` (1 %) of its samples (``|x| >= 0.999``);
    - silent (20 ms frames under -60 dBFS RMS) for more than ``MAX_SILENCE_PCT`` (80 %);
    - noisy: its noise floor within ``MIN_SNR_DB`` (20 dB) of its RMS level. The noise floor
      is the 2nd percentile of the 20 ms frames' RMS, the level in the pauses; this is
      checked only for references that are not silent overall (RMS above -60 dBFS). A
      reference without any pause (a held tone, unbroken singing) reads its own level as the
      floor and is rejected too: energy alone cannot tell its floor from its signal.

    Levels are dBFS (full-scale sine peak = 0 dBFS, so its RMS is -3.01 dBFS), floored at
    -120; percentages are of samples (clipping) or frames (silence).
    """

    duration_s: float
    peak_dbfs: float
    rms_dbfs: float
    clipping_pct: float
    silence_pct: float
    noise_floor_dbfs: float
    problems: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """JSON-primitive form (for ``singer_references.quality_metrics``)."""
        return {
            "duration_s": self.duration_s,
            "peak_dbfs": self.peak_dbfs,
            "rms_dbfs": self.rms_dbfs,
            "clipping_pct": self.clipping_pct,
            "silence_pct": self.silence_pct,
            "noise_floor_dbfs": self.noise_floor_dbfs,
            "problems": list(self.problems),
        }


@attrs.frozen(eq=False)
class ExemplarStub:
    """A per-reference exemplar of the stub build.

    ``f0_p50_hz`` and ``f0_p90_hz`` are 0.0 placeholders (no pitch tracking in the stub);
    ``voiced_pct`` is the share of non-silent frames, an energy-based stand-in for voicing;
    ``energy_db`` is the reference's RMS level in dBFS.
    """

    ref_id: uuid.UUID
    embedding: bytes
    f0_p50_hz: float
    f0_p90_hz: float
    voiced_pct: float
    energy_db: float

    def to_exemplar(self, *, exemplar_id: uuid.UUID, profile_id: uuid.UUID) -> SingerExemplar:
        """The stored exemplar row of this build result."""
        return SingerExemplar(
            id=exemplar_id,
            singer_profile_id=profile_id,
            source_reference_id=self.ref_id,
            embedding=self.embedding,
            f0_p50_hz=self.f0_p50_hz,
            f0_p90_hz=self.f0_p90_hz,
            voiced_pct=self.voiced_pct,
            energy_db=self.energy_db,
        )


@attrs.frozen(eq=False)
class ProfileBuild:
    """What a profile build stores: embeddings, stats and exemplars, plus each reference's
    quality (``qualities``, keyed by ``ref_id``, for the references' rows).

    profile_embedding : ``EMBEDDING_DIMS`` float32 little-endian, unit norm
    cluster_embeddings : ``k x EMBEDDING_DIMS`` float32 little-endian, rows of unit norm
    stats : JSON-primitive dict: n_references (accepted), n_rejected (unreadable included), total_duration_s
        (accepted), rms_dbfs_median and active_pct (duration-weighted share of non-silent frames)
    """

    embedding_version: str
    profile_embedding: bytes
    cluster_embeddings: bytes
    stats: dict[str, Any]
    exemplars: tuple[ExemplarStub, ...]
    qualities: dict[uuid.UUID, ReferenceQuality]


def assess_reference(audio: np.ndarray, *, sample_rate_hz: int) -> ReferenceQuality:
    """Measure a reference clip and list its problems (see :class:`ReferenceQuality`).

    audio : np.ndarray [shape=(n_samples,)], float, mono at ``sample_rate_hz``; may be empty
    """
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise InvalidParamsError(f"reference audio must be mono (n_samples,), got {x.shape}")
    if sample_rate_hz <= 0:
        raise InvalidParamsError(f"sample_rate_hz must be > 0, got {sample_rate_hz!r}")
    n_samples = x.shape[0]
    magnitude = np.abs(x)
    frame_db = _frame_rms_db(x, frame_samples=max(1, round(FRAME_S * sample_rate_hz)))
    duration_s = units.samples_to_seconds(n_samples, sample_rate_hz=sample_rate_hz)
    peak_dbfs = _floored(units.gain_to_db(np.max(magnitude, initial=0.0)))
    rms_dbfs = _floored(units.power_to_db(np.dot(x, x) / max(1, n_samples)))
    clipping_pct = 100.0 * np.count_nonzero(magnitude >= CLIP_LEVEL) / max(1, n_samples)
    silence_pct = 100.0 * float(np.mean(frame_db < SILENCE_DBFS))
    noise_floor_dbfs = float(np.percentile(frame_db, NOISE_FLOOR_PERCENTILE))

    problems = []
    if duration_s < MIN_DURATION_S:
        problems.append(f"shorter than {MIN_DURATION_S:g} s ({duration_s:.2f} s)")
    if clipping_pct > MAX_CLIPPING_PCT:
        problems.append(f"{clipping_pct:.1f}% of samples clipped (more than {MAX_CLIPPING_PCT:g}%)")
    if silence_pct > MAX_SILENCE_PCT:
        problems.append(f"{silence_pct:.1f}% silent (more than {MAX_SILENCE_PCT:g}%)")
    if rms_dbfs > SILENCE_DBFS and rms_dbfs - noise_floor_dbfs < MIN_SNR_DB:
        problems.append(
            f"noise floor {noise_floor_dbfs:.1f} dBFS within {MIN_SNR_DB:g} dB of the RMS "
            f"level {rms_dbfs:.1f} dBFS (no pause quieter than that)"
        )
    return ReferenceQuality(
        duration_s=duration_s,
        peak_dbfs=peak_dbfs,
        rms_dbfs=rms_dbfs,
        clipping_pct=float(clipping_pct),
        silence_pct=silence_pct,
        noise_floor_dbfs=noise_floor_dbfs,
        problems=tuple(problems),
    )


def build_stub_profile(
    references: Sequence[ReferenceAudio],
    *,
    sample_rate_hz: int,
    unreadable: Sequence[tuple[uuid.UUID, str]] = (),
) -> ProfileBuild:
    """Build a profile from the acceptable references.

    ``unreadable`` lists the profile's references that could not be decoded, each with why:
    they count as rejected and their reason is named when the build fails, so that a profile
    whose only reference is not a WAV says so rather than that it has none.

    Raises :class:`InvalidInputError` when there is no reference, or none is acceptable (the
    message lists each reference's problems).
    """
    if not references and not unreadable:
        raise InvalidInputError("a singer profile needs at least one reference, got none")
    ordered = sorted(references, key=lambda reference: (reference.content_hash, reference.ref_id))
    qualities = {
        reference.ref_id: assess_reference(reference.audio, sample_rate_hz=sample_rate_hz)
        for reference in ordered
    }
    accepted = [reference for reference in ordered if qualities[reference.ref_id].accepted]
    if not accepted:
        problems = [
            (reference.ref_id, ", ".join(qualities[reference.ref_id].problems))
            for reference in references
        ]
        reasons = "; ".join(f"{ref_id}: {why}" for ref_id, why in [*problems, *unreadable])
        raise InvalidInputError(f"no usable reference: {reasons}")

    vectors = np.stack([_embedding(reference.content_hash) for reference in accepted])
    clusters = np.stack(
        [
            _unit(group.mean(axis=0))
            for group in np.array_split(vectors, min(MAX_CLUSTERS, len(accepted)))
        ]
    )
    accepted_qualities = [qualities[reference.ref_id] for reference in accepted]
    durations_s = np.array([quality.duration_s for quality in accepted_qualities])
    active_pct = np.array([100.0 - quality.silence_pct for quality in accepted_qualities])
    stats = {
        "n_references": len(accepted),
        "n_rejected": len(ordered) - len(accepted) + len(unreadable),
        "total_duration_s": float(durations_s.sum()),
        "rms_dbfs_median": float(np.median([quality.rms_dbfs for quality in accepted_qualities])),
        "active_pct": float(np.dot(durations_s, active_pct) / durations_s.sum()),
    }
    exemplars = tuple(
        ExemplarStub(
            ref_id=reference.ref_id,
            embedding=_to_bytes(vector),
            f0_p50_hz=0.0,
            f0_p90_hz=0.0,
            voiced_pct=100.0 - quality.silence_pct,
            energy_db=quality.rms_dbfs,
        )
        for reference, vector, quality in zip(accepted, vectors, accepted_qualities, strict=True)
    )
    return ProfileBuild(
        embedding_version=EMBEDDING_VERSION,
        profile_embedding=_to_bytes(_unit(vectors.mean(axis=0))),
        cluster_embeddings=_to_bytes(clusters),
        stats=stats,
        exemplars=exemplars,
        qualities=qualities,
    )


def _frame_rms_db(x: np.ndarray, *, frame_samples: int) -> np.ndarray:
    """RMS in dBFS of consecutive frames (the last one partial), floored; at least one frame."""
    n_frames = max(1, -(-x.shape[0] // frame_samples))
    padded = np.zeros(n_frames * frame_samples)
    padded[: x.shape[0]] = x
    counts = np.clip(x.shape[0] - frame_samples * np.arange(n_frames), 1, frame_samples)
    power = np.square(padded).reshape(n_frames, frame_samples).sum(axis=1) / counts
    return _floored(units.power_to_db(power))


def _floored(level_db):
    floored = np.maximum(level_db, FLOOR_DBFS)
    return float(floored) if np.ndim(floored) == 0 else floored


def _embedding(content_hash: str) -> np.ndarray:
    """The stub embedding of a file: a unit vector from a generator seeded with its sha256."""
    rng = np.random.default_rng(int(content_hash, 16))
    return _unit(rng.standard_normal(EMBEDDING_DIMS))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def _to_bytes(array: np.ndarray) -> bytes:
    return array.astype(_EMBEDDING_DTYPE).tobytes()
