"""Checks that a row a write points at belongs to the writing user (else: NotFoundError)."""

import uuid

import sqlalchemy as sa

from voxregen_adapters.db.tables import singer_profiles, stem_feature_cache
from voxregen_core.errors import NotFoundError


def require_profile(
    connection: sa.Connection, *, user_id: uuid.UUID, profile_id: uuid.UUID
) -> None:
    """Raise :class:`NotFoundError` unless the user has this singer profile."""
    query = sa.select(singer_profiles.c.id).where(
        singer_profiles.c.id == profile_id, singer_profiles.c.user_id == user_id
    )
    if connection.execute(query).first() is None:
        raise NotFoundError(f"no singer profile {profile_id}")


def require_feature_cache_entry(
    connection: sa.Connection, *, user_id: uuid.UUID, entry_id: uuid.UUID
) -> None:
    """Raise :class:`NotFoundError` unless the user has this feature-cache entry."""
    query = sa.select(stem_feature_cache.c.id).where(
        stem_feature_cache.c.id == entry_id, stem_feature_cache.c.user_id == user_id
    )
    if connection.execute(query).first() is None:
        raise NotFoundError(f"no feature-cache entry {entry_id}")
