"""``PostgresIdempotencyKeyRepository``: ``idempotency_keys`` rows, scoped by user."""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from voxregen_adapters.db.tables import idempotency_keys
from voxregen_adapters.db.transaction import locked_row, transaction
from voxregen_core.idempotency import (
    IN_FLIGHT_TIMEOUT_S,
    Claimed,
    IdempotencyClaim,
    IdempotencyKeyInUseError,
    IdempotencyKeyReusedError,
    Replay,
    StoredAnswer,
)


class PostgresIdempotencyKeyRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def claim(
        self, *, user_id: uuid.UUID, key: str, fingerprint: str, now: datetime
    ) -> IdempotencyClaim:
        inserted = (
            insert(idempotency_keys)
            .values(user_id=user_id, key=key, fingerprint=fingerprint, created_at=now)
            .on_conflict_do_nothing()
            .returning(idempotency_keys.c.key)
        )
        with transaction(self._engine) as connection:
            if connection.execute(inserted).first() is not None:
                return Claimed()
            row = locked_row(connection, idempotency_keys, _owned(user_id, key))
            if row is None:  # released or expired between the two statements
                if connection.execute(inserted).first() is not None:
                    return Claimed()
                row = locked_row(connection, idempotency_keys, _owned(user_id, key))
            if row is not None and row.fingerprint != fingerprint:
                raise IdempotencyKeyReusedError(
                    "this Idempotency-Key was used for another request (another route or "
                    "body); use a new key for a new request"
                )
            if row is not None and row.status_code is not None:
                return Replay(StoredAnswer(status_code=row.status_code, body=row.body))
            if row is None or row.created_at > now - timedelta(seconds=IN_FLIGHT_TIMEOUT_S):
                # (None: other claims came and went twice meanwhile; as good as in flight)
                raise IdempotencyKeyInUseError(
                    "a request with this Idempotency-Key is still being answered; retry in a moment"
                )
            connection.execute(  # never answered: its process died; this request takes it
                sa.update(idempotency_keys).where(_owned(user_id, key)).values(created_at=now)
            )
            return Claimed()

    def answer(self, *, user_id: uuid.UUID, key: str, answer: StoredAnswer) -> None:
        statement = (
            sa.update(idempotency_keys)
            .where(_owned(user_id, key))
            .values(status_code=answer.status_code, body=answer.body, answered_at=sa.func.now())
        )
        with transaction(self._engine) as connection:
            connection.execute(statement)

    def release(self, *, user_id: uuid.UUID, key: str) -> None:
        statement = sa.delete(idempotency_keys).where(
            _owned(user_id, key), idempotency_keys.c.status_code.is_(None)
        )
        with transaction(self._engine) as connection:
            connection.execute(statement)

    def expire(self, *, created_before: datetime, limit: int) -> int:
        oldest = (
            sa.select(idempotency_keys.c.user_id, idempotency_keys.c.key)
            .where(idempotency_keys.c.created_at < created_before)
            .order_by(idempotency_keys.c.created_at)
            .limit(limit)
        )
        statement = sa.delete(idempotency_keys).where(
            sa.tuple_(idempotency_keys.c.user_id, idempotency_keys.c.key).in_(oldest)
        )
        with transaction(self._engine) as connection:
            return connection.execute(statement).rowcount


def _owned(user_id: uuid.UUID, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
