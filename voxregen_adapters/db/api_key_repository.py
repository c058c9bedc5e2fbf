"""``PostgresApiKeyRepository``: the ``api_keys`` rows (:mod:`voxregen_core.api_keys`)."""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from voxregen_adapters.db.tables import api_keys
from voxregen_adapters.db.transaction import transaction
from voxregen_core.api_keys import ApiKey


class PostgresApiKeyRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(self, row: ApiKey) -> ApiKey:
        statement = (
            sa.insert(api_keys)
            .values(
                id=row.id, user_id=row.user_id, name=row.name, prefix=row.prefix, digest=row.digest
            )
            .returning(api_keys)
        )
        with transaction(self._engine) as connection:
            return _key_from_row(connection.execute(statement).one())

    def list_for_user(self, *, user_id: uuid.UUID) -> list[ApiKey]:
        query = (
            sa.select(api_keys)
            .where(api_keys.c.user_id == user_id)
            .order_by(api_keys.c.created_at, api_keys.c.id)
        )
        with transaction(self._engine) as connection:
            return [_key_from_row(row) for row in connection.execute(query)]

    def find_by_digest(self, digest: str) -> ApiKey | None:
        query = sa.select(api_keys).where(api_keys.c.digest == digest)
        with transaction(self._engine) as connection:
            row = connection.execute(query).first()
        return None if row is None else _key_from_row(row)

    def revoke(self, *, key_id: uuid.UUID, now: datetime) -> ApiKey | None:
        statement = (
            sa.update(api_keys)
            .where(api_keys.c.id == key_id)
            .values(revoked_at=sa.func.coalesce(api_keys.c.revoked_at, now))
            .returning(api_keys)
        )
        with transaction(self._engine) as connection:
            row = connection.execute(statement).first()
        return None if row is None else _key_from_row(row)

    def touch(self, *, key_id: uuid.UUID, now: datetime, resolution_s: float) -> None:
        stale = now - timedelta(seconds=resolution_s)
        statement = (
            sa.update(api_keys)
            .where(
                api_keys.c.id == key_id,
                sa.or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < stale),
            )
            .values(last_used_at=now)
        )
        with transaction(self._engine) as connection:
            connection.execute(statement)


def _key_from_row(row: sa.Row) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.prefix,
        digest=row.digest,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
