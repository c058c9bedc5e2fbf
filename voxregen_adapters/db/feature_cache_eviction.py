"""``PostgresFeatureCacheEviction``: the retention sweep of ``stem_feature_cache``, over every
user's entries (the worker's sweeper runs it).

:func:`voxregen_core.feature_cache.evictable` decides, from the facts read here: the entries
idle longer than the retention, and the queued and running jobs as
:class:`~voxregen_core.feature_cache.JobInFlight`. The candidate query narrows by the same rule
(so that entries in use never crowd the evictable ones out of its ``limit``); the policy then
decides twice: over the candidates, and again for each entry with its row locked
(``FOR UPDATE SKIP LOCKED``), from the jobs of its user read in that transaction. Its blob is
deleted while the row is locked, then the row, then the transaction commits:

- a job that records the entry (``begin_chunks``, the move to ``done``) waits on the lock (a
  clone is created without one: it finds the entry by ``input_hash`` when it runs); one that already holds a lock on it makes the sweep skip it;
- a job in flight keeps every entry it may read, so it never finds its entry gone between its
  look-up and its next write; a job that starts later misses the cache and extracts again;
- a blob deletion that fails leaves the row, so no blob is orphaned: the next pass tries again
  (a missing blob is re-extracted by the next job that wants it).

``render_jobs.stem_feature_cache_id`` is ``ON DELETE SET NULL``: a finished job keeps its row.
"""

import uuid
from collections.abc import Callable, Set
from datetime import datetime, timedelta

import sqlalchemy as sa

from voxregen_adapters.db.feature_cache_repository import entry_from_row
from voxregen_adapters.db.tables import render_jobs, stem_feature_cache
from voxregen_adapters.db.transaction import transaction
from voxregen_core.feature_cache import FeatureCacheEntry, JobInFlight, evictable
from voxregen_core.jobs import IN_FLIGHT

_IN_FLIGHT = [status.value for status in IN_FLIGHT]


class PostgresFeatureCacheEviction:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def evict_idle(
        self,
        *,
        now: datetime,
        max_idle_s: float,
        limit: int,
        delete_blob: Callable[[str], None],
    ) -> list[FeatureCacheEntry]:
        with transaction(self._engine) as connection:
            candidates = _idle_candidates(connection, now=now, max_idle_s=max_idle_s, limit=limit)
            users = {entry.user_id for entry in candidates}
            in_flight = _jobs_in_flight(connection, user_ids=users)
        chosen = evictable(candidates, now=now, max_idle_s=max_idle_s, in_flight=in_flight)
        evicted = []
        for entry in chosen:
            with transaction(self._engine) as connection:
                locked = _locked(connection, entry.id)
                if locked is None:  # gone already, or a writer holds it: it is in use
                    continue
                in_flight = _jobs_in_flight(connection, user_ids={locked.user_id})
                if not evictable([locked], now=now, max_idle_s=max_idle_s, in_flight=in_flight):
                    continue  # touched or taken by a job since the candidates were read
                delete_blob(locked.object_key)
                connection.execute(
                    sa.delete(stem_feature_cache).where(stem_feature_cache.c.id == locked.id)
                )
            evicted.append(locked)
        return evicted


def _jobs_in_flight(connection: sa.Connection, *, user_ids: Set[uuid.UUID]) -> list[JobInFlight]:
    """The queued and running jobs of these users."""
    if not user_ids:
        return []
    query = sa.select(render_jobs.c.user_id, render_jobs.c.stem_feature_cache_id).where(
        render_jobs.c.status.in_(_IN_FLIGHT), render_jobs.c.user_id.in_(sorted(user_ids))
    )
    return [JobInFlight(user_id=row[0], entry_id=row[1]) for row in connection.execute(query)]


def _idle_candidates(
    connection: sa.Connection, *, now: datetime, max_idle_s: float, limit: int
) -> list[FeatureCacheEntry]:
    """Up to ``limit`` entries idle for more than ``max_idle_s`` and not readable by a job in
    flight, least recently used first: the rule of ``evictable``, as a query."""
    jobs = sa.select(render_jobs).where(render_jobs.c.status.in_(_IN_FLIGHT)).subquery()
    referred = sa.select(jobs.c.stem_feature_cache_id).where(
        jobs.c.stem_feature_cache_id.is_not(None)
    )
    looking_up = sa.select(jobs.c.user_id).where(jobs.c.stem_feature_cache_id.is_(None))
    query = (
        sa.select(stem_feature_cache)
        .where(
            stem_feature_cache.c.last_accessed_at < now - timedelta(seconds=max_idle_s),
            stem_feature_cache.c.id.not_in(referred),
            stem_feature_cache.c.user_id.not_in(looking_up),
        )
        .order_by(stem_feature_cache.c.last_accessed_at, stem_feature_cache.c.id)
        .limit(limit)
    )
    return [entry_from_row(row) for row in connection.execute(query)]


def _locked(connection: sa.Connection, entry_id: uuid.UUID) -> FeatureCacheEntry | None:
    query = (
        sa.select(stem_feature_cache)
        .where(stem_feature_cache.c.id == entry_id)
        .with_for_update(skip_locked=True)
    )
    row = connection.execute(query).first()
    return None if row is None else entry_from_row(row)
