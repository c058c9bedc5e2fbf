"""The job row as the fan-out's shared record, on real PostgreSQL: chunks recorded from many
threads at once complete the job exactly once; a resumed job keeps its recorded chunks, its
first start and preparation times, and starts its chunks over on another embedding; the sweep
claims a stalled job once."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.integration.worker_world import backdate_job
from voxregen_adapters.db.feature_cache_repository import PostgresFeatureCacheRepository
from voxregen_adapters.db.profile_repository import PostgresSingerProfileRepository
from voxregen_adapters.db.render_job_repository import PostgresRenderJobRepository
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.jobs import JobStatus, RenderJob
from voxregen_core.keys import job_input_key
from voxregen_core.profiles import ProfileStatus, SingerProfile

USER = uuid.UUID("cccccccc-cccc-4ccc-8ccc-cccccccccccc")
CHUNKS_TOTAL = 12
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EMBEDDING = "0123456789abcdef"
REBUILT = "fedcba9876543210"


@pytest.fixture
def jobs(pg_engine) -> PostgresRenderJobRepository:
    return PostgresRenderJobRepository(pg_engine)


def _running_job(
    engine: sa.Engine, jobs: PostgresRenderJobRepository
) -> tuple[RenderJob, uuid.UUID]:
    profile = PostgresSingerProfileRepository(engine).add(
        SingerProfile(id=uuid.uuid4(), user_id=USER, name="Ada", status=ProfileStatus.READY)
    )
    entry = PostgresFeatureCacheRepository(engine).add(
        FeatureCacheEntry.new(
            user_id=USER, input_hash="cd" * 32, feature_version="v1", duration_s=200.0, now=NOW
        )
    )
    job_id = uuid.uuid4()
    job = jobs.add(
        RenderJob(
            id=job_id,
            user_id=USER,
            singer_profile_id=profile.id,
            input_object_key=job_input_key(USER, job_id),
        )
    )
    jobs.transition(
        user_id=USER, job_id=job.id, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
    )
    return job, entry.id


def _begin(jobs, job, entry_id, *, started_at=NOW, embedding_fingerprint=EMBEDDING):
    return jobs.begin_chunks(
        user_id=USER,
        job_id=job.id,
        input_hash="cd" * 32,
        stem_feature_cache_id=entry_id,
        chunks_total=CHUNKS_TOTAL,
        embedding_fingerprint=embedding_fingerprint,
        started_at=started_at,
        feature_cache_hit=False,
        prepare_stage_ms={"decode": 5.0 if started_at == NOW else 9.0, "features": 7.0},
    )


def _record(jobs, job, index, *, embedding_fingerprint=EMBEDDING):
    return jobs.record_chunk(
        user_id=USER,
        job_id=job.id,
        chunk_index=index,
        generated=True,
        embedding_fingerprint=embedding_fingerprint,
    )


def test_chunks_recorded_from_many_threads_complete_the_job_exactly_once(pg_engine, jobs):
    job, entry_id = _running_job(pg_engine, jobs)
    _begin(jobs, job, entry_id)
    completions: list[int] = []
    start = threading.Barrier(8)

    def record(indices: list[int]) -> None:
        start.wait()
        for index in indices:
            _, completed = _record(jobs, job, index)
            if completed:
                completions.append(index)

    # every chunk recorded by two threads (a duplicate delivery), in different orders
    orders = [list(range(CHUNKS_TOTAL))[offset::4] for offset in range(4)] * 2
    threads = [
        threading.Thread(target=record, args=(order[::-1] if i % 2 else order,))
        for i, order in enumerate(orders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(completions) == 1
    ledger = jobs.ledger(user_id=USER, job_id=job.id)
    assert ledger.complete and ledger.generated == 2 * CHUNKS_TOTAL
    assert jobs.get(user_id=USER, job_id=job.id).progress.chunks_done == CHUNKS_TOTAL


def test_a_resumed_job_keeps_its_recorded_chunks_and_first_start(pg_engine, jobs):
    job, entry_id = _running_job(pg_engine, jobs)
    _begin(jobs, job, entry_id)
    for index in (0, 3):
        _record(jobs, job, index)

    resumed = _begin(jobs, job, entry_id, started_at=NOW + timedelta(minutes=5))

    assert resumed.stored == {0, 3} and resumed.started_at == NOW
    assert resumed.prepare_stage_ms == {"decode": 5.0, "features": 7.0}
    assert jobs.ledger(user_id=USER, job_id=job.id) == resumed
    row = jobs.get(user_id=USER, job_id=job.id)
    assert (row.input_hash, row.stem_feature_cache_id) == ("cd" * 32, entry_id)


def test_a_job_resumed_on_a_rebuilt_embedding_starts_its_chunks_over_and_refuses_stale_ones(
    pg_engine, jobs
):
    job, entry_id = _running_job(pg_engine, jobs)
    _begin(jobs, job, entry_id)
    for index in (0, 3):
        _record(jobs, job, index)

    over = _begin(
        jobs, job, entry_id, started_at=NOW + timedelta(minutes=5), embedding_fingerprint=REBUILT
    )
    stale, completed = _record(jobs, job, 5)  # made with the old embedding

    assert over.stored == frozenset() and over.embedding_fingerprint == REBUILT
    assert over.started_at == NOW
    assert (stale.stored, stale.embedding_fingerprint, completed) == (frozenset(), REBUILT, False)
    assert jobs.get(user_id=USER, job_id=job.id).progress.chunks_done == 0


def test_a_finished_job_records_nothing(pg_engine, jobs):
    job, entry_id = _running_job(pg_engine, jobs)
    _begin(jobs, job, entry_id)
    jobs.transition(
        user_id=USER,
        job_id=job.id,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.FAILED,
        error_code="x",
        error_message="y",
    )
    assert _record(jobs, job, 0) is None
    assert _begin(jobs, job, entry_id) is None


def test_a_stalled_job_is_claimed_once_and_a_moving_one_not_at_all(pg_engine, jobs):
    stalled, _ = _running_job(pg_engine, jobs)
    moving, _ = _running_job(pg_engine, jobs)
    backdate_job(
        pg_engine, stalled.id, updated_ago=timedelta(hours=1), created_ago=timedelta(hours=1)
    )
    since = datetime.now(UTC) - timedelta(minutes=10)

    claimed = jobs.claim_stalled(unchanged_since=since, limit=10)

    assert [job.id for job in claimed] == [stalled.id]
    assert jobs.claim_stalled(unchanged_since=since, limit=10) == []
    assert moving.id not in {job.id for job in claimed}
