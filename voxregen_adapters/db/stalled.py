"""Claiming rows whose status has not moved for a while: the worker's sweeper uses it to find
render jobs and profile builds whose queue messages were lost."""

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa


def claim_stalled_rows(
    connection: sa.Connection,
    table: sa.Table,
    *,
    statuses: Iterable[str],
    unchanged_since: datetime,
    limit: int,
    where: sa.ColumnElement[bool] | None = None,
) -> list[sa.Row]:
    """Up to ``limit`` rows of ``table`` of any user, in one of ``statuses``, unchanged
    since ``unchanged_since`` and matching ``where`` (if given), oldest first, marked changed
    now (the ``updated_at`` trigger) so that a second claim in the same stall period does not
    return them again. Rows locked by another transaction are skipped, so two sweepers never
    claim the same row."""
    stalled = (
        sa.select(table.c.id)
        .where(table.c.status.in_(list(statuses)), table.c.updated_at < unchanged_since)
        .order_by(table.c.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if where is not None:
        stalled = stalled.where(where)
    statement = (
        sa.update(table)
        .where(table.c.id.in_(stalled.scalar_subquery()))
        .values(updated_at=sa.func.now())
        .returning(table)
    )
    return list(connection.execute(statement))
