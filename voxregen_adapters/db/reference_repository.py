"""``PostgresSingerReferenceRepository``: ``singer_references`` rows, scoped by user. Adding or
deleting one marks its profile ``building`` in the same transaction."""

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from voxregen_adapters.db.keyset import newest_first_page
from voxregen_adapters.db.tables import singer_profiles, singer_references
from voxregen_adapters.db.timestamps import utc
from voxregen_adapters.db.transaction import locked_row, transaction
from voxregen_core.errors import NotFoundError
from voxregen_core.pagination import PageRequest
from voxregen_core.profiles import ProfileStatus, SingerReference


class PostgresSingerReferenceRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(self, reference: SingerReference) -> SingerReference:
        statement = (
            sa.insert(singer_references)
            .values(
                id=reference.id,
                user_id=reference.user_id,
                singer_profile_id=reference.singer_profile_id,
                object_key=reference.object_key,
                duration_sec=reference.duration_s,
                quality_metrics=reference.quality_metrics,
                accepted=reference.accepted,
            )
            .returning(singer_references)
        )
        profile_id = reference.singer_profile_id
        with transaction(self._engine) as connection:
            if not _mark_building(connection, user_id=reference.user_id, profile_id=profile_id):
                raise NotFoundError(f"no singer profile {profile_id}")
            return reference_from_row(connection.execute(statement).one())

    def get(self, *, user_id: uuid.UUID, reference_id: uuid.UUID) -> SingerReference | None:
        query = sa.select(singer_references).where(_owned(user_id, reference_id))
        with transaction(self._engine) as connection:
            row = connection.execute(query).first()
        return None if row is None else reference_from_row(row)

    def list_for_profile(
        self, *, user_id: uuid.UUID, profile_id: uuid.UUID
    ) -> list[SingerReference]:
        query = (
            sa.select(singer_references)
            .where(
                singer_references.c.singer_profile_id == profile_id,
                singer_references.c.user_id == user_id,
            )
            .order_by(singer_references.c.created_at, singer_references.c.id)
        )
        with transaction(self._engine) as connection:
            return [reference_from_row(row) for row in connection.execute(query)]

    def list_page(
        self, *, user_id: uuid.UUID, profile_id: uuid.UUID, page: PageRequest
    ) -> list[SingerReference]:
        query = sa.select(singer_references).where(
            singer_references.c.singer_profile_id == profile_id,
            singer_references.c.user_id == user_id,
        )
        with transaction(self._engine) as connection:
            rows = connection.execute(newest_first_page(query, singer_references, page))
            return [reference_from_row(row) for row in rows]

    def delete(
        self,
        *,
        user_id: uuid.UUID,
        reference_id: uuid.UUID,
        delete_object: Callable[[SingerReference], None],
    ) -> SingerReference | None:
        profile_of_reference = sa.select(singer_references.c.singer_profile_id).where(
            _owned(user_id, reference_id)
        )
        with transaction(self._engine) as connection:
            profile_id = connection.execute(profile_of_reference).scalar_one_or_none()
            if profile_id is None:
                return None
            _mark_building(connection, user_id=user_id, profile_id=profile_id)  # locks first
            row = locked_row(connection, singer_references, _owned(user_id, reference_id))
            if row is None:  # deleted meanwhile, by a delete that marked the profile too
                return None
            reference = reference_from_row(row)
            delete_object(reference)
            # its exemplars go with it (singer_exemplars.source_reference_id: ON DELETE CASCADE)
            connection.execute(sa.delete(singer_references).where(_owned(user_id, reference_id)))
            return reference

    def record_quality(
        self,
        *,
        user_id: uuid.UUID,
        reference_id: uuid.UUID,
        quality_metrics: Mapping[str, Any],
        accepted: bool,
        duration_s: float | None = None,
    ) -> bool:
        values = {"quality_metrics": dict(quality_metrics), "accepted": accepted}
        if duration_s is not None:
            values["duration_sec"] = duration_s
        statement = sa.update(singer_references).where(_owned(user_id, reference_id)).values(values)
        with transaction(self._engine) as connection:
            return connection.execute(statement).rowcount == 1


def _mark_building(connection: sa.Connection, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> bool:
    """Mark the user's profile ``building`` (its references are changing), taking its row lock
    before the references are touched: a build records its result under that lock after
    reading the references (``profile_repository``), so it sees this transaction's change
    whole or not at all, and the locks are always taken in one order. False if the user has
    no such profile."""
    statement = (
        sa.update(singer_profiles)
        .where(singer_profiles.c.id == profile_id, singer_profiles.c.user_id == user_id)
        .values(status=ProfileStatus.BUILDING.value)
    )
    return connection.execute(statement).rowcount == 1


def _owned(user_id: uuid.UUID, reference_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return sa.and_(singer_references.c.id == reference_id, singer_references.c.user_id == user_id)


def reference_from_row(row: sa.Row) -> SingerReference:
    return SingerReference(
        id=row.id,
        user_id=row.user_id,
        singer_profile_id=row.singer_profile_id,
        object_key=row.object_key,
        duration_s=row.duration_sec,
        quality_metrics=row.quality_metrics,
        accepted=row.accepted,
        created_at=utc(row.created_at),
    )
