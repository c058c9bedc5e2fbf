"""``PostgresSingerExemplarRepository``: ``singer_exemplars`` rows, read; and
:func:`replace_exemplars`, with which the profile repository writes them as part of a build.

The table has no ``user_id``: every query reaches it through the owning profile's.
"""

import uuid
from collections.abc import Collection, Sequence

import sqlalchemy as sa

from voxregen_adapters.db.tables import singer_exemplars, singer_profiles
from voxregen_adapters.db.timestamps import utc
from voxregen_adapters.db.transaction import transaction
from voxregen_core.errors import NotFoundError
from voxregen_core.profiles import SingerExemplar


class PostgresSingerExemplarRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def list_for_profile(
        self, *, user_id: uuid.UUID, profile_id: uuid.UUID
    ) -> list[SingerExemplar]:
        query = (
            sa.select(singer_exemplars)
            .join(singer_profiles, singer_profiles.c.id == singer_exemplars.c.singer_profile_id)
            .where(singer_profiles.c.id == profile_id, singer_profiles.c.user_id == user_id)
            .order_by(singer_exemplars.c.created_at, singer_exemplars.c.id)
        )
        with transaction(self._engine) as connection:
            return [_exemplar_from_row(row) for row in connection.execute(query)]


def replace_exemplars(
    connection: sa.Connection,
    *,
    profile_id: uuid.UUID,
    reference_ids: Collection[uuid.UUID],
    exemplars: Sequence[SingerExemplar],
) -> None:
    """Make ``exemplars`` the only exemplars of ``profile_id``, whose references are
    ``reference_ids`` (the caller holds the profile's row lock and has read them under it), in
    the caller's transaction. Raises :class:`NotFoundError` for an exemplar of another profile
    or cut from another reference, before writing anything."""
    for exemplar in exemplars:
        if exemplar.singer_profile_id != profile_id:
            raise NotFoundError(f"exemplar {exemplar.id} is not of singer profile {profile_id}")
        if exemplar.source_reference_id not in reference_ids:
            raise NotFoundError(
                f"no reference {exemplar.source_reference_id} in singer profile {profile_id}"
            )
    connection.execute(
        sa.delete(singer_exemplars).where(singer_exemplars.c.singer_profile_id == profile_id)
    )
    if exemplars:
        connection.execute(sa.insert(singer_exemplars), [_row(exemplar) for exemplar in exemplars])


def _row(exemplar: SingerExemplar) -> dict[str, object]:
    return {
        "id": exemplar.id,
        "singer_profile_id": exemplar.singer_profile_id,
        "embedding": exemplar.embedding,
        "f0_p50": exemplar.f0_p50_hz,
        "f0_p90": exemplar.f0_p90_hz,
        "voiced_pct": exemplar.voiced_pct,
        "energy": exemplar.energy_db,
        "source_reference_id": exemplar.source_reference_id,
    }


def _exemplar_from_row(row: sa.Row) -> SingerExemplar:
    return SingerExemplar(
        id=row.id,
        singer_profile_id=row.singer_profile_id,
        source_reference_id=row.source_reference_id,
        embedding=row.embedding,
        f0_p50_hz=row.f0_p50,
        f0_p90_hz=row.f0_p90,
        voiced_pct=row.voiced_pct,
        energy_db=row.energy,
        created_at=utc(row.created_at),
    )
