"""Singer profiles, their reference clips and exemplars (per-user private)."""

import enum
import hashlib
import uuid
from datetime import datetime
from typing import Any

import attrs
from attrs import validators as v

MAX_NAME_CHARS = 200
EMBEDDING_FINGERPRINT_HEX_DIGITS = 16


class ProfileStatus(enum.StrEnum):
    BUILDING = "building"
    READY = "ready"
    ERROR = "error"


def _name(instance: object, attribute: attrs.Attribute, name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ValueError(
            f"'{attribute.name}' must be 1 to {MAX_NAME_CHARS} characters, not blank: {name!r}"
        )


@attrs.frozen
class SingerProfile:
    """A producer's singer: built from reference clips into (stub) embeddings."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str = attrs.field(validator=_name)
    status: ProfileStatus = attrs.field(converter=ProfileStatus)
    embedding_version: str | None = None
    profile_embedding: bytes | None = None
    cluster_embeddings: bytes | None = None
    stats: dict[str, Any] = attrs.field(factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def built(self) -> bool:
        """Whether a build has stored an embedding (it stays while a rebuild runs)."""
        return self.profile_embedding is not None

    @property
    def usable_for_render(self) -> bool:
        """Whether a render may use the profile now: ``ready``, or ``building`` over an
        embedding an earlier build stored (a rebuild after a new reference: renders go on with
        the built embedding until the new one replaces it). A profile never built yet and a
        profile in ``error`` are not usable."""
        return self.status is ProfileStatus.READY or (
            self.status is ProfileStatus.BUILDING and self.built
        )

    @property
    def unusable_reason(self) -> str:
        """Why a render may not use the profile, for an error message (meaningful only when
        :attr:`usable_for_render` is False)."""
        if self.status is ProfileStatus.BUILDING:
            return "building and not built yet"
        return self.status.value

    @property
    def embedding_fingerprint(self) -> str:
        """A short content hash of the embedding a render uses (``embedding_version``,
        ``profile_embedding`` and ``cluster_embeddings``): a job pins it, and its chunks carry
        it, so that one job's chunks all come from one embedding. 16 hex digits of a sha256;
        a rebuild that stores the same embedding keeps it."""
        digest = hashlib.sha256()
        version = None if self.embedding_version is None else self.embedding_version.encode()
        for part in (version, self.profile_embedding, self.cluster_embeddings):
            # length-prefixed, and None apart from empty, so no two embeddings hash alike
            digest.update(b"-" if part is None else b"+%d:" % len(part) + part)
        return digest.hexdigest()[:EMBEDDING_FINGERPRINT_HEX_DIGITS]


@attrs.frozen
class SingerReference:
    """One isolated, dry reference clip of a singer profile."""

    id: uuid.UUID
    user_id: uuid.UUID
    singer_profile_id: uuid.UUID
    object_key: str
    duration_s: float = attrs.field(validator=v.ge(0.0))
    quality_metrics: dict[str, Any] = attrs.field(factory=dict)
    accepted: bool = True
    created_at: datetime | None = None


@attrs.frozen
class SingerExemplar:
    """A short, characteristic stretch of a reference with its embedding and pitch statistics."""

    id: uuid.UUID
    singer_profile_id: uuid.UUID
    source_reference_id: uuid.UUID
    embedding: bytes
    f0_p50_hz: float = attrs.field(validator=v.ge(0.0))
    f0_p90_hz: float = attrs.field(validator=v.ge(0.0))
    voiced_pct: float = attrs.field(validator=[v.ge(0.0), v.le(100.0)])
    energy_db: float
    created_at: datetime | None = None


@attrs.frozen
class ProfileDeletion:
    """What deleting a profile removes besides its row, as the repository reads it with the
    row locked: the profile, its references, and how many queued or running jobs render with
    it (a deletion is refused while there are any)."""

    profile: SingerProfile
    references: list[SingerReference]
    jobs_in_flight: int
