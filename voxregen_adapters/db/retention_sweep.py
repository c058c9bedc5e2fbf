"""``PostgresRetentionSweep``: the retention sweep of render jobs' chunks, outputs and inputs,
over every user's jobs (the worker's sweeper runs it).

:mod:`voxregen_core.retention` decides, from the rows read here. Each kind has a candidate
query that narrows by the same rule, oldest job first (revision 0008's partial indexes serve
them: a job whose object was swept leaves the index, so a pass never walks past what earlier
passes swept). The policy then decides again with the rows locked (``FOR UPDATE SKIP LOCKED``),
the objects are deleted while they are, the deletion is recorded on the rows (which takes them
out of the candidates), and the transaction commits:

- Chunks and outputs: one job's row at a time. A row another transaction holds (a webhook
  attempt being recorded, a deletion, another sweeper) is passed by for a later pass; a sweeper
  that locks it after another swept it reads the mark and leaves it.
- An input: every job of its user on its key at once, or none: if one of them is held
  elsewhere (a deletion, a clone being added, another sweeper), the input is passed by. With
  them locked, the user's jobs on the input or on its hash are read in a statement of their
  own, which sees any job committed since the locks were asked for, and the policy decides
  from those. A job being added on the input holds its siblings' rows ``FOR KEY SHARE``
  (:meth:`~voxregen_adapters.db.render_job_repository.PostgresRenderJobRepository.add`), so
  either the sweep passes the input by, or the new job waits for the sweep to commit and is
  refused by the mark it then reads: no queued job is ever left on a deleted input. (The
  input-hash rule keeps the inputs of the same audio as a job in flight; that job reads its
  own key, so this one is a precaution and takes no lock.)
- A deletion that fails rolls its marks back: the next pass deletes again (deleting what is
  gone already is not an error).

Setting a mark moves the job's ``updated_at`` (the trigger), which nothing reads for a finished
job.
"""

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from voxregen_adapters.db.render_job_repository import job_from_row
from voxregen_adapters.db.tables import render_jobs
from voxregen_adapters.db.transaction import transaction
from voxregen_core.jobs import IN_FLIGHT, JobStatus, RenderJob
from voxregen_core.retention import (
    RetentionPolicy,
    chunks_expire,
    input_expires,
    output_expires,
)

_FINISHED = [status.value for status in JobStatus if status.finished]
_IN_FLIGHT = [status.value for status in IN_FLIGHT]


class PostgresRetentionSweep:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def expire_chunks(
        self,
        *,
        now: datetime,
        policy: RetentionPolicy,
        limit: int,
        delete_chunks: Callable[[RenderJob], None],
    ) -> list[RenderJob]:
        candidates = sa.select(render_jobs).where(
            render_jobs.c.chunks_expired_at.is_(None),
            render_jobs.c.status.in_(_FINISHED),
            render_jobs.c.created_at < now - timedelta(seconds=policy.chunks_s),
        )
        return self._expire_each(
            candidates,
            limit=limit,
            chosen=lambda job: chunks_expire(job, now=now, policy=policy),
            delete=delete_chunks,
            mark={"chunks_expired_at": now},
        )

    def expire_outputs(
        self,
        *,
        now: datetime,
        policy: RetentionPolicy,
        limit: int,
        delete_object: Callable[[str], None],
    ) -> list[RenderJob]:
        candidates = sa.select(render_jobs).where(
            render_jobs.c.status == JobStatus.DONE.value,
            render_jobs.c.output_expired_at.is_(None),
            render_jobs.c.created_at < now - timedelta(seconds=policy.outputs_s),
        )
        return self._expire_each(
            candidates,
            limit=limit,
            chosen=lambda job: output_expires(job, now=now, policy=policy),
            delete=lambda job: delete_object(job.output_object_key),
            mark={"output_expired_at": now},
        )

    def expire_inputs(
        self,
        *,
        now: datetime,
        policy: RetentionPolicy,
        limit: int,
        delete_object: Callable[[str], None],
    ) -> list[str]:
        with transaction(self._engine) as connection:
            candidates = _input_candidates(
                connection, created_before=now - timedelta(seconds=policy.inputs_s), limit=limit
            )
        expired = []
        for user_id, key in candidates:
            with transaction(self._engine) as connection:
                if not _locked_every_job_on(connection, user_id, key):
                    continue
                jobs = _jobs_on_input_or_its_hash(connection, user_id, key)
                if not input_expires(key, jobs, now=now, policy=policy):
                    continue
                delete_object(key)
                connection.execute(
                    sa.update(render_jobs)
                    .where(_on_input(user_id, key), render_jobs.c.input_expired_at.is_(None))
                    .values(input_expired_at=now)
                )
            expired.append(key)
        return expired

    def _expire_each(
        self,
        candidates: sa.Select,
        *,
        limit: int,
        chosen: Callable[[RenderJob], bool],
        delete: Callable[[RenderJob], None],
        mark: dict[str, datetime],
    ) -> list[RenderJob]:
        """For each of the oldest ``limit`` jobs of ``candidates`` that ``chosen`` picks, with
        its row locked and picked again: ``delete``, then ``mark`` on its row."""
        oldest = candidates.order_by(render_jobs.c.created_at, render_jobs.c.id).limit(limit)
        with transaction(self._engine) as connection:
            picked = [job for job in _jobs(connection.execute(oldest)) if chosen(job)]
        expired = []
        for candidate in picked:
            with transaction(self._engine) as connection:
                locked = (
                    sa.select(render_jobs)
                    .where(render_jobs.c.id == candidate.id)
                    .with_for_update(skip_locked=True)
                )
                row = connection.execute(locked).first()
                if row is None:  # held by another transaction, or deleted meanwhile
                    continue
                job = job_from_row(row)
                if not chosen(job):  # swept by another sweeper since the candidates were read
                    continue
                delete(job)
                connection.execute(
                    sa.update(render_jobs).where(render_jobs.c.id == job.id).values(**mark)
                )
            expired.append(job)
        return expired


def _input_candidates(
    connection: sa.Connection, *, created_before: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Up to ``limit`` (user, input key) pairs whose oldest job still keeping the input was
    created before ``created_before`` and that no job in flight renders (or renders the same
    hash of), the oldest first: the rule of ``input_expires``, as a query."""
    jobs = render_jobs.alias("candidate")
    in_flight = (
        sa.select(render_jobs.c.id)
        .where(
            render_jobs.c.user_id == jobs.c.user_id,
            render_jobs.c.status.in_(_IN_FLIGHT),
            sa.or_(
                render_jobs.c.input_object_key == jobs.c.input_object_key,
                render_jobs.c.input_hash == jobs.c.input_hash,
            ),
        )
        .exists()
    )
    oldest = sa.func.min(jobs.c.created_at)
    query = (
        sa.select(jobs.c.user_id, jobs.c.input_object_key)
        .where(
            jobs.c.input_expired_at.is_(None),
            jobs.c.created_at < created_before,
            ~in_flight,
        )
        .group_by(jobs.c.user_id, jobs.c.input_object_key)
        .order_by(oldest, jobs.c.input_object_key)
        .limit(limit)
    )
    return [(row.user_id, row.input_object_key) for row in connection.execute(query)]


def _locked_every_job_on(connection: sa.Connection, user_id: uuid.UUID, key: str) -> bool:
    """Lock the user's jobs on ``key``, skipping those held elsewhere; whether that locked
    every one of them, as they are now (a job committed meanwhile counts)."""
    locking = (
        sa.select(render_jobs.c.id)
        .where(_on_input(user_id, key))
        .order_by(render_jobs.c.id)
        .with_for_update(skip_locked=True)
    )
    locked = set(connection.execute(locking).scalars())
    every = sa.select(render_jobs.c.id).where(_on_input(user_id, key))
    return bool(locked) and locked == set(connection.execute(every).scalars())


def _jobs_on_input_or_its_hash(
    connection: sa.Connection, user_id: uuid.UUID, key: str
) -> list[RenderJob]:
    """The user's jobs on ``key``, and those sharing an input hash with one of them."""
    hashes = sa.select(render_jobs.c.input_hash).where(
        _on_input(user_id, key), render_jobs.c.input_hash.is_not(None)
    )
    query = sa.select(render_jobs).where(
        render_jobs.c.user_id == user_id,
        sa.or_(
            render_jobs.c.input_object_key == key,
            render_jobs.c.input_hash.in_(hashes),
        ),
    )
    return _jobs(connection.execute(query))


def _on_input(user_id: uuid.UUID, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(render_jobs.c.user_id == user_id, render_jobs.c.input_object_key == key)


def _jobs(rows: Iterable[sa.Row]) -> list[RenderJob]:
    return [job_from_row(row) for row in rows]
