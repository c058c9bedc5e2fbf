"""``PostgresFeatureCacheRepository``: ``stem_feature_cache`` rows, scoped by user.

The unique (user_id, input_hash, feature_version) constraint decides a race between two
renders of one input: the loser's insert does nothing and it gets the winner's entry.
"""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from voxregen_adapters.db.tables import stem_feature_cache
from voxregen_adapters.db.timestamps import utc
from voxregen_adapters.db.transaction import transaction
from voxregen_core.feature_cache import FeatureCacheEntry

_KEY = ("user_id", "input_hash", "feature_version")


class PostgresFeatureCacheRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def find(
        self, *, user_id: uuid.UUID, input_hash: str, feature_version: str
    ) -> FeatureCacheEntry | None:
        with transaction(self._engine) as connection:
            row = connection.execute(_by_key(user_id, input_hash, feature_version)).first()
        return None if row is None else entry_from_row(row)

    def add(self, entry: FeatureCacheEntry) -> FeatureCacheEntry:
        statement = (
            postgresql.insert(stem_feature_cache)
            .values(
                id=entry.id,
                user_id=entry.user_id,
                input_hash=entry.input_hash,
                feature_version=entry.feature_version,
                sample_rate=entry.sample_rate_hz,
                object_key=entry.object_key,
                duration_sec=entry.duration_s,
                created_at=entry.created_at,
                last_accessed_at=entry.last_accessed_at,
            )
            .on_conflict_do_nothing(index_elements=_KEY)
            .returning(stem_feature_cache)
        )
        with transaction(self._engine) as connection:
            row = connection.execute(statement).first()
            if row is None:  # an earlier or concurrent add won: use its entry
                row = connection.execute(
                    _by_key(entry.user_id, entry.input_hash, entry.feature_version)
                ).one()
        return entry_from_row(row)

    def touch(self, entry: FeatureCacheEntry, *, accessed_at: datetime) -> None:
        statement = (
            sa.update(stem_feature_cache)
            .where(
                stem_feature_cache.c.id == entry.id,
                stem_feature_cache.c.user_id == entry.user_id,
            )
            .values(last_accessed_at=accessed_at)
        )
        with transaction(self._engine) as connection:
            connection.execute(statement)


def _by_key(user_id: uuid.UUID, input_hash: str, feature_version: str) -> sa.Select:
    return sa.select(stem_feature_cache).where(
        stem_feature_cache.c.user_id == user_id,
        stem_feature_cache.c.input_hash == input_hash,
        stem_feature_cache.c.feature_version == feature_version,
    )


def entry_from_row(row: sa.Row) -> FeatureCacheEntry:
    return FeatureCacheEntry(
        id=row.id,
        user_id=row.user_id,
        input_hash=row.input_hash,
        feature_version=row.feature_version,
        sample_rate_hz=row.sample_rate,
        object_key=row.object_key,
        duration_s=row.duration_sec,
        created_at=utc(row.created_at),
        last_accessed_at=utc(row.last_accessed_at),
    )
