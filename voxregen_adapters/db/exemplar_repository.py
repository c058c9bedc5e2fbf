"""``PostgresSingerExemplarRepository``: ``singer_exemplars`` rows.

The table has no ``user_id``: every query reaches it through the owning profile's.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa

from voxregen_adapters.db.ownership import require_profile
from voxregen_adapters.db.tables import singer_exemplars, singer_profiles, singer_references
from voxregen_adapters.db.timestamps import utc
from voxregen_adapters.db.transaction import transaction
from voxregen_core.errors import NotFoundError
from voxregen_core.profiles import SingerExemplar


class PostgresSingerExemplarRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def replace_for_profile(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        exemplars: Sequence[SingerExemplar],
    ) -> None:
        foreign = [e.id for e in exemplars if e.singer_profile_id != profile_id]
        if foreign:
            raise NotFoundError(f"exemplar {foreign[0]} is not of singer profile {profile_id}")
        with transaction(self._engine) as connection:
            # The row lock makes concurrent rebuilds of one profile take turns.
            require_profile(connection, user_id=user_id, profile_id=profile_id, lock=True)
            _require_references(
                connection,
                user_id=user_id,
                profile_id=profile_id,
                reference_ids={e.source_reference_id for e in exemplars},
            )
            connection.execute(
                sa.delete(singer_exemplars).where(
                    singer_exemplars.c.singer_profile_id == profile_id
                )
            )
            if exemplars:
                connection.execute(
                    sa.insert(singer_exemplars), [_row(exemplar) for exemplar in exemplars]
                )

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


def _require_references(
    connection: sa.Connection,
    *,
    user_id: uuid.UUID,
    profile_id: uuid.UUID,
    reference_ids: set[uuid.UUID],
) -> None:
    query = sa.select(singer_references.c.id).where(
        singer_references.c.id.in_(reference_ids),
        singer_references.c.singer_profile_id == profile_id,
        singer_references.c.user_id == user_id,
    )
    missing = reference_ids - set(connection.execute(query).scalars())
    if missing:
        raise NotFoundError(f"no reference {min(missing)} in singer profile {profile_id}")


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
