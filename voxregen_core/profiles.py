"""Singer profiles, their reference clips and exemplars (per-user private)."""

import enum
import uuid
from datetime import datetime
from typing import Any

import attrs
from attrs import validators as v

MAX_NAME_CHARS = 200


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
