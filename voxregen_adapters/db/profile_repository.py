"""``PostgresSingerProfileRepository``: ``singer_profiles`` rows, scoped by user."""

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from voxregen_adapters.db.exemplar_repository import replace_exemplars
from voxregen_adapters.db.keyset import newest_first_page
from voxregen_adapters.db.reference_repository import reference_from_row
from voxregen_adapters.db.stalled import claim_stalled_rows
from voxregen_adapters.db.tables import render_jobs, singer_profiles, singer_references
from voxregen_adapters.db.timestamps import utc
from voxregen_adapters.db.transaction import locked_row, transaction
from voxregen_core.jobs import IN_FLIGHT
from voxregen_core.pagination import PageRequest
from voxregen_core.profiles import (
    ProfileDeletion,
    ProfileStatus,
    SingerExemplar,
    SingerProfile,
)


class PostgresSingerProfileRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(self, profile: SingerProfile) -> SingerProfile:
        statement = (
            sa.insert(singer_profiles)
            .values(
                id=profile.id,
                user_id=profile.user_id,
                name=profile.name,
                status=profile.status.value,
                embedding_version=profile.embedding_version,
                profile_embedding=profile.profile_embedding,
                cluster_embeddings=profile.cluster_embeddings,
                stats=profile.stats,
            )
            .returning(singer_profiles)
        )
        with transaction(self._engine) as connection:
            return _profile_from_row(connection.execute(statement).one())

    def get(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> SingerProfile | None:
        query = sa.select(singer_profiles).where(_owned(user_id, profile_id))
        with transaction(self._engine) as connection:
            row = connection.execute(query).first()
        return None if row is None else _profile_from_row(row)

    def list_page(self, *, user_id: uuid.UUID, page: PageRequest) -> list[SingerProfile]:
        query = sa.select(singer_profiles).where(singer_profiles.c.user_id == user_id)
        with transaction(self._engine) as connection:
            rows = connection.execute(newest_first_page(query, singer_profiles, page))
            return [_profile_from_row(row) for row in rows]

    def set_status(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        status: ProfileStatus,
        stats: Mapping[str, Any] | None = None,
    ) -> bool:
        values = {"status": ProfileStatus(status).value}
        if stats is not None:
            values["stats"] = dict(stats)
        return self._update(user_id, profile_id, **values)

    def record_build(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        built_from: Collection[uuid.UUID],
        embedding_version: str,
        profile_embedding: bytes,
        cluster_embeddings: bytes,
        stats: Mapping[str, Any],
        exemplars: Sequence[SingerExemplar],
    ) -> bool:
        return self._record(
            user_id,
            profile_id,
            built_from,
            exemplars,
            status=ProfileStatus.READY.value,
            embedding_version=embedding_version,
            profile_embedding=profile_embedding,
            cluster_embeddings=cluster_embeddings,
            stats=dict(stats),
        )

    def record_build_failure(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        built_from: Collection[uuid.UUID],
        stats: Mapping[str, Any],
    ) -> bool:
        return self._record(
            user_id, profile_id, built_from, [], status=ProfileStatus.ERROR.value, stats=dict(stats)
        )

    def forget_build(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> bool:
        return self._update(
            user_id,
            profile_id,
            status=ProfileStatus.BUILDING.value,
            embedding_version=None,
            profile_embedding=None,
            cluster_embeddings=None,
            stats={},
        )

    def delete(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        delete_objects: Callable[[ProfileDeletion], None],
    ) -> bool:
        with transaction(self._engine) as connection:
            row = locked_row(connection, singer_profiles, _owned(user_id, profile_id))
            if row is None:
                return False
            references = connection.execute(
                sa.select(singer_references).where(
                    singer_references.c.singer_profile_id == profile_id,
                    singer_references.c.user_id == user_id,
                )
            )
            in_flight = connection.execute(
                sa.select(sa.func.count())
                .select_from(render_jobs)
                .where(
                    render_jobs.c.user_id == user_id,
                    render_jobs.c.singer_profile_id == profile_id,
                    render_jobs.c.status.in_([status.value for status in IN_FLIGHT]),
                )
            ).scalar_one()
            delete_objects(
                ProfileDeletion(
                    profile=_profile_from_row(row),
                    references=[reference_from_row(reference) for reference in references],
                    jobs_in_flight=in_flight,
                )
            )
            # references and exemplars cascade; finished jobs keep their rows (SET NULL)
            connection.execute(sa.delete(singer_profiles).where(_owned(user_id, profile_id)))
            return True

    def claim_stalled(self, *, unchanged_since: datetime, limit: int) -> list[SingerProfile]:
        has_reference = sa.exists().where(
            singer_references.c.singer_profile_id == singer_profiles.c.id
        )
        with transaction(self._engine) as connection:
            rows = claim_stalled_rows(
                connection,
                singer_profiles,
                statuses=(ProfileStatus.BUILDING.value,),
                unchanged_since=unchanged_since,
                limit=limit,
                where=has_reference,
            )
        return [_profile_from_row(row) for row in rows]

    def _record(
        self,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        built_from: Collection[uuid.UUID],
        exemplars: Sequence[SingerExemplar],
        **values: object,
    ) -> bool:
        """A build's result, if the profile's references are still ``built_from``. They are
        read under the profile's row lock, which adding or deleting a reference takes before
        touching them, in the same transaction as marking the profile ``building``
        (``reference_repository``): the change is seen whole or not at all, so no such change
        can slip between the check and the write. (One conditional UPDATE would not do: under
        READ COMMITTED its subquery keeps the statement's snapshot when the UPDATE waits for
        the row.)"""
        references = sa.select(singer_references.c.id).where(
            singer_references.c.singer_profile_id == profile_id,
            singer_references.c.user_id == user_id,
        )
        with transaction(self._engine) as connection:
            locked = connection.execute(
                sa.select(singer_profiles.c.id)
                .where(_owned(user_id, profile_id))
                .with_for_update(key_share=True)  # a job's insert (FOR KEY SHARE) need not wait
            ).first()
            if locked is None:
                return False
            current = set(connection.execute(references).scalars())
            if current != set(built_from):
                return False
            replace_exemplars(
                connection, profile_id=profile_id, reference_ids=current, exemplars=exemplars
            )
            connection.execute(
                sa.update(singer_profiles).where(_owned(user_id, profile_id)).values(**values)
            )
            return True

    def _update(self, user_id: uuid.UUID, profile_id: uuid.UUID, **values: object) -> bool:
        statement = sa.update(singer_profiles).where(_owned(user_id, profile_id)).values(**values)
        with transaction(self._engine) as connection:
            return connection.execute(statement).rowcount == 1


def _owned(user_id: uuid.UUID, profile_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return sa.and_(singer_profiles.c.id == profile_id, singer_profiles.c.user_id == user_id)


def _profile_from_row(row: sa.Row) -> SingerProfile:
    return SingerProfile(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        status=ProfileStatus(row.status),
        embedding_version=row.embedding_version,
        profile_embedding=row.profile_embedding,
        cluster_embeddings=row.cluster_embeddings,
        stats=row.stats,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )
