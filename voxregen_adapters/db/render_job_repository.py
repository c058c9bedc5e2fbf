"""``PostgresRenderJobRepository``: ``render_jobs`` rows, scoped by user, with status moves as
compare-and-set statements."""

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from voxregen_adapters.db.feature_cache_repository import entry_from_row
from voxregen_adapters.db.keyset import newest_first_page
from voxregen_adapters.db.ownership import require_feature_cache_entry, require_profile
from voxregen_adapters.db.stalled import claim_stalled_rows
from voxregen_adapters.db.tables import render_jobs, stem_feature_cache
from voxregen_adapters.db.timestamps import utc
from voxregen_adapters.db.transaction import transaction
from voxregen_core.errors import InputExpiredError, InvalidParamsError, TooManyActiveJobsError
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.jobs import (
    ACTIVE_JOBS_RETRY_AFTER_S,
    IN_FLIGHT,
    ChunkLedger,
    JobDeletion,
    JobStatus,
    Progress,
    RenderJob,
)
from voxregen_core.pagination import PageRequest
from voxregen_core.params import RenderParams
from voxregen_core.webhooks import WebhookAttempt, WebhookTarget

_ACTIVE_JOBS_LOCK = 0x766F78  # the advisory lock space of a user's active-job count
COUNT_TIMEOUT_MS = 2_000
"""The longest :meth:`PostgresRenderJobRepository.count_by_status` may run (a scrape waits on
it): past it the database cancels the query, which raises DatabaseUnavailableError."""


class PostgresRenderJobRepository:
    def __init__(self, engine: sa.Engine, *, max_active_jobs_per_user: int | None = None) -> None:
        self._engine = engine
        self._max_active = max_active_jobs_per_user

    def add(self, job: RenderJob) -> RenderJob:
        statement = (
            sa.insert(render_jobs)
            .values(
                id=job.id,
                user_id=job.user_id,
                singer_profile_id=job.singer_profile_id,
                input_object_key=job.input_object_key,
                output_object_key=job.output_object_key,
                input_hash=job.input_hash,
                stem_feature_cache_id=job.stem_feature_cache_id,
                status=job.status.value,
                params=job.params.to_json(),
                progress=job.progress.to_json(),
                metrics=job.metrics,
                webhook=None if job.webhook is None else job.webhook.to_json(),
            )
            .returning(render_jobs)
        )
        with transaction(self._engine) as connection:
            require_profile(connection, user_id=job.user_id, profile_id=job.singer_profile_id)
            if self._max_active is not None and job.status in IN_FLIGHT:
                self._require_room(connection, job.user_id)
            if job.stem_feature_cache_id is not None:
                require_feature_cache_entry(
                    connection, user_id=job.user_id, entry_id=job.stem_feature_cache_id
                )
            _require_input_kept(connection, job)
            return job_from_row(connection.execute(statement).one())

    def _require_room(self, connection: sa.Connection, user_id: uuid.UUID) -> None:
        """Raise :class:`TooManyActiveJobsError` if the user has the limit's number of jobs in
        flight. A lock on the user (held to the end of the transaction) makes concurrent adds
        count one after another, so that they cannot pass the limit together."""
        connection.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(_ACTIVE_JOBS_LOCK, sa.func.hashtext(str(user_id)))
            )
        )
        active = connection.execute(
            sa.select(sa.func.count()).where(
                render_jobs.c.user_id == user_id,
                render_jobs.c.status.in_([status.value for status in IN_FLIGHT]),
            )
        ).scalar_one()
        if active >= self._max_active:
            raise TooManyActiveJobsError(
                f"you have {active} jobs queued or running, the most allowed at once; "
                "wait for one to finish (or cancel one)",
                retry_after_s=ACTIVE_JOBS_RETRY_AFTER_S,
            )

    def get(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> RenderJob | None:
        query = sa.select(render_jobs).where(_owned(user_id, job_id))
        with transaction(self._engine) as connection:
            row = connection.execute(query).first()
        return None if row is None else job_from_row(row)

    def list_page(
        self,
        *,
        user_id: uuid.UUID,
        page: PageRequest,
        status: JobStatus | None = None,
        singer_profile_id: uuid.UUID | None = None,
    ) -> list[RenderJob]:
        query = sa.select(render_jobs).where(render_jobs.c.user_id == user_id)
        if status is not None:
            query = query.where(render_jobs.c.status == status.value)
        if singer_profile_id is not None:
            query = query.where(render_jobs.c.singer_profile_id == singer_profile_id)
        with transaction(self._engine) as connection:
            rows = connection.execute(newest_first_page(query, render_jobs, page))
            return [job_from_row(row) for row in rows]

    def transition(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        from_status: JobStatus,
        to_status: JobStatus,
        input_hash: str | None = None,
        stem_feature_cache_id: uuid.UUID | None = None,
        output_object_key: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> bool:
        _check_move(from_status, to_status, output_object_key, error_code, error_message)
        changes = {
            "input_hash": input_hash,
            "stem_feature_cache_id": stem_feature_cache_id,
            "output_object_key": output_object_key,
            "metrics": None if metrics is None else dict(metrics),
            "error_code": error_code,
            "error_message": error_message,
        }
        statement = (
            sa.update(render_jobs)
            .where(_owned(user_id, job_id), render_jobs.c.status == from_status.value)
            .values(
                status=to_status.value,
                **{name: value for name, value in changes.items() if value is not None},
            )
        )
        with transaction(self._engine) as connection:
            if stem_feature_cache_id is not None:
                require_feature_cache_entry(
                    connection, user_id=user_id, entry_id=stem_feature_cache_id
                )
            return connection.execute(statement).rowcount == 1

    def delete(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        delete_objects: Callable[[JobDeletion], None],
    ) -> bool:
        with transaction(self._engine) as connection:
            row = connection.execute(sa.select(render_jobs).where(_owned(user_id, job_id))).first()
            if row is None:
                return False
            job = job_from_row(row)
            group = _locked_jobs_sharing_input(connection, job)
            if job.id not in {other.id for other in group}:
                return False  # deleted meanwhile
            others = [other for other in group if other.id != job.id]
            entries = []
            hash_shared = any(other.input_hash == job.input_hash for other in others)
            unshared = job.input_hash is not None and not hash_shared
            if unshared and not _may_be_looking_up_features(connection, user_id, job_id):
                entries = _locked_entries_of(connection, user_id, job.input_hash)
            input_shared = any(other.input_object_key == job.input_object_key for other in others)
            delete_objects(
                JobDeletion(job=job, input_shared=input_shared, feature_cache_entries=entries)
            )
            connection.execute(sa.delete(render_jobs).where(_owned(user_id, job_id)))
            connection.execute(
                sa.delete(stem_feature_cache).where(
                    stem_feature_cache.c.id.in_([entry.id for entry in entries])
                )
            )
            return True

    def record_webhook_attempt(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, attempt: WebhookAttempt
    ) -> bool:
        statement = (
            sa.update(render_jobs)
            .where(_owned(user_id, job_id))
            .values(webhook_last_attempt=attempt.to_json())
        )
        with transaction(self._engine) as connection:
            return connection.execute(statement).rowcount == 1

    def claim_progress_notice(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, now: datetime, interval_s: float
    ) -> bool:
        last = render_jobs.c.webhook_progress_at
        statement = (
            sa.update(render_jobs)
            .where(
                _owned(user_id, job_id),
                sa.or_(last.is_(None), last <= now - timedelta(seconds=interval_s)),
            )
            .values(webhook_progress_at=now)
        )
        with transaction(self._engine) as connection:
            return connection.execute(statement).rowcount == 1

    def update_progress(self, *, user_id: uuid.UUID, job_id: uuid.UUID, progress: Progress) -> bool:
        statement = (
            sa.update(render_jobs)
            .where(_owned(user_id, job_id), render_jobs.c.status == JobStatus.RUNNING.value)
            .values(progress=progress.to_json())
        )
        with transaction(self._engine) as connection:
            return connection.execute(statement).rowcount == 1

    def begin_chunks(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        input_hash: str,
        stem_feature_cache_id: uuid.UUID,
        chunks_total: int,
        embedding_fingerprint: str,
        started_at: datetime,
        feature_cache_hit: bool,
        prepare_stage_ms: Mapping[str, float],
    ) -> ChunkLedger | None:
        with transaction(self._engine) as connection:
            require_feature_cache_entry(connection, user_id=user_id, entry_id=stem_feature_cache_id)
            ledger = _locked_ledger(connection, user_id, job_id)
            if ledger is None:
                return None
            ledger = ledger.begun(
                chunks_total=chunks_total,
                embedding_fingerprint=embedding_fingerprint,
                started_at=started_at,
                feature_cache_hit=feature_cache_hit,
                prepare_stage_ms=dict(prepare_stage_ms),
            )
            _write_ledger(
                connection,
                user_id,
                job_id,
                ledger,
                input_hash=input_hash,
                stem_feature_cache_id=stem_feature_cache_id,
            )
            return ledger

    def record_chunk(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        chunk_index: int,
        generated: bool,
        embedding_fingerprint: str,
    ) -> tuple[ChunkLedger, bool] | None:
        with transaction(self._engine) as connection:
            ledger = _locked_ledger(connection, user_id, job_id)
            if ledger is None:
                return None
            ledger, completed = ledger.record(
                chunk_index, generated=generated, embedding_fingerprint=embedding_fingerprint
            )
            _write_ledger(connection, user_id, job_id, ledger)
            return ledger, completed

    def ledger(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> ChunkLedger | None:
        query = sa.select(render_jobs.c.progress).where(_owned(user_id, job_id))
        with transaction(self._engine) as connection:
            progress = connection.execute(query).scalar_one_or_none()
        return None if progress is None else ChunkLedger.from_json(progress)

    def claim_stalled(self, *, unchanged_since: datetime, limit: int) -> list[RenderJob]:
        statuses = [status.value for status in IN_FLIGHT]
        with transaction(self._engine) as connection:
            rows = claim_stalled_rows(
                connection,
                render_jobs,
                statuses=statuses,
                unchanged_since=unchanged_since,
                limit=limit,
            )
        return [job_from_row(row) for row in rows]

    def count_by_status(self) -> dict[JobStatus, int]:
        query = sa.select(render_jobs.c.status, sa.func.count()).group_by(render_jobs.c.status)
        with transaction(self._engine) as connection:
            connection.execute(sa.text(f"SET LOCAL statement_timeout = {COUNT_TIMEOUT_MS}"))
            counted = {JobStatus(status): count for status, count in connection.execute(query)}
        return {status: counted.get(status, 0) for status in JobStatus}


def _write_ledger(
    connection: sa.Connection,
    user_id: uuid.UUID,
    job_id: uuid.UUID,
    ledger: ChunkLedger,
    **values: object,
) -> None:
    statement = sa.update(render_jobs).where(_owned(user_id, job_id))
    connection.execute(statement.values(progress=ledger.to_json(), **values))


def _locked_ledger(
    connection: sa.Connection, user_id: uuid.UUID, job_id: uuid.UUID
) -> ChunkLedger | None:
    """The running job's ledger, its row locked until the transaction ends; None if the
    user has no such running job."""
    query = (
        sa.select(render_jobs.c.progress)
        .where(_owned(user_id, job_id), render_jobs.c.status == JobStatus.RUNNING.value)
        .with_for_update()
    )
    progress = connection.execute(query).scalar_one_or_none()
    return None if progress is None else ChunkLedger.from_json(progress)


def _check_move(
    from_status: JobStatus,
    to_status: JobStatus,
    output_object_key: str | None,
    error_code: str | None,
    error_message: str | None,
) -> None:
    if not from_status.can_become(to_status):
        raise InvalidParamsError(
            f"a render job cannot move from {from_status.value} to {to_status.value}"
        )
    if (output_object_key is not None) != (to_status is JobStatus.DONE):
        raise InvalidParamsError(
            f"output_object_key goes with a move to done, and only then; got "
            f"{output_object_key!r} for a move to {to_status.value}"
        )
    failing = to_status is JobStatus.FAILED
    if (error_code is not None) != failing or (error_message is not None) != failing:
        raise InvalidParamsError(
            f"error_code and error_message go with a move to failed, and only then; got "
            f"{error_code!r} and {error_message!r} for a move to {to_status.value}"
        )


def _locked_jobs_sharing_input(connection: sa.Connection, job: RenderJob) -> list[RenderJob]:
    """``job`` and the user's other jobs of the same input object or input hash, locked in id
    order: two deletions of jobs that share an input (a job and its clone) take the locks one
    after the other, so the second sees the first gone and deletes the input it shared."""
    shares = [render_jobs.c.id == job.id, render_jobs.c.input_object_key == job.input_object_key]
    if job.input_hash is not None:
        shares.append(render_jobs.c.input_hash == job.input_hash)
    query = (
        sa.select(render_jobs)
        .where(render_jobs.c.user_id == job.user_id, sa.or_(*shares))
        .order_by(render_jobs.c.id)
        .with_for_update()
    )
    return [job_from_row(row) for row in connection.execute(query)]


def _may_be_looking_up_features(
    connection: sa.Connection, user_id: uuid.UUID, job_id: uuid.UUID
) -> bool:
    """Whether another queued or running job of the user has not recorded its feature-cache
    entry yet: it may be about to use one of this input's (the same audio, found by its hash),
    so the entries stay, as the eviction sweep keeps them (feature_cache_eviction.py)."""
    query = sa.select(render_jobs.c.id).where(
        render_jobs.c.user_id == user_id,
        render_jobs.c.id != job_id,
        render_jobs.c.status.in_([status.value for status in IN_FLIGHT]),
        render_jobs.c.stem_feature_cache_id.is_(None),
    )
    return connection.execute(query.limit(1)).first() is not None


def _locked_entries_of(
    connection: sa.Connection, user_id: uuid.UUID, input_hash: str
) -> list[FeatureCacheEntry]:
    """The user's feature-cache entries of ``input_hash``, locked (the eviction sweep skips a
    locked entry, and a job recording one waits)."""
    query = (
        sa.select(stem_feature_cache)
        .where(
            stem_feature_cache.c.user_id == user_id, stem_feature_cache.c.input_hash == input_hash
        )
        .with_for_update()
    )
    return [entry_from_row(row) for row in connection.execute(query)]


def _require_input_kept(connection: sa.Connection, job: RenderJob) -> None:
    """Raise :class:`InputExpiredError` if the user's jobs on ``job``'s input object record it
    deleted. Their rows stay locked (``FOR KEY SHARE``) until the insert commits: the
    retention sweep deletes an input only with every job on it locked
    (:mod:`voxregen_adapters.db.retention_sweep`), so either it sees this job, or this waits
    for it and reads its mark."""
    query = (
        sa.select(render_jobs.c.input_expired_at)
        .where(
            render_jobs.c.user_id == job.user_id,
            render_jobs.c.input_object_key == job.input_object_key,
        )
        .with_for_update(read=True, key_share=True)
    )
    deleted = [at for at in connection.execute(query).scalars() if at is not None]
    if deleted:
        raise InputExpiredError(
            f"the input {job.input_object_key} was deleted on {min(deleted):%Y-%m-%d} (inputs "
            "are kept for a limited time after upload); upload the stem again"
        )


def _owned(user_id: uuid.UUID, job_id: uuid.UUID) -> sa.ColumnElement[bool]:
    return sa.and_(render_jobs.c.id == job_id, render_jobs.c.user_id == user_id)


def job_from_row(row: sa.Row) -> RenderJob:
    return RenderJob(
        id=row.id,
        user_id=row.user_id,
        singer_profile_id=row.singer_profile_id,
        input_object_key=row.input_object_key,
        params=RenderParams.from_json(row.params),
        status=JobStatus(row.status),
        progress=Progress(
            chunks_done=row.progress["chunks_done"], chunks_total=row.progress["chunks_total"]
        ),
        output_object_key=row.output_object_key,
        input_hash=row.input_hash,
        stem_feature_cache_id=row.stem_feature_cache_id,
        metrics=row.metrics,
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        webhook=None if row.webhook is None else WebhookTarget.from_json(row.webhook),
        webhook_last_attempt=(
            None
            if row.webhook_last_attempt is None
            else WebhookAttempt.from_json(row.webhook_last_attempt)
        ),
        chunks_expired_at=_utc_or_none(row.chunks_expired_at),
        input_expired_at=_utc_or_none(row.input_expired_at),
        output_expired_at=_utc_or_none(row.output_expired_at),
    )


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)
