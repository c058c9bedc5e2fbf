"""The retention sweep over real PostgreSQL, on the local store and on moto's S3, with a clock
the tests set: exactly the chunks, outputs and inputs past their retention go, what a queued or
running job may read stays (and goes once it is done), a sweep twice or two sweepers at once
delete each object once, a failed deletion is retried by the next pass, and a job added on an
input while it is being deleted is refused rather than left queued on nothing."""

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
import sqlalchemy as sa

from tests.fakes import InMemoryJobQueue, SetClock
from tests.integration.migrated_database import connected, engine_on
from tests.integration.worker_world import (
    SpyingStore,
    add_job,
    add_profile,
    add_reference,
    backdate_job,
    make_service,
    reference_wav,
    render_to_end,
)
from voxregen_adapters.db import tables
from voxregen_adapters.service import Service
from voxregen_core.errors import InputExpiredError, StorageUnavailableError
from voxregen_core.jobs import JobStatus, RenderJob
from voxregen_core.keys import chunk_key, job_output_key
from voxregen_core.profiles import SingerProfile
from voxregen_core.retention import DAY_S, HOUR_S, RetentionPolicy
from voxregen_worker.profile_build import profile_build
from voxregen_worker.retention_sweep import RetentionOutcome
from voxregen_worker.sweeper import Sweeper

USER = uuid.UUID("abababab-abab-4bab-8bab-abababababab")
HASH = "ef" * 32
CHUNKS_PER_JOB = 2


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield attrs.evolve(service, queue=InMemoryJobQueue())
    service.close()


def make_sweeper(service: Service, clock: SetClock, policy: RetentionPolicy) -> Sweeper:
    """A sweeper on ``service`` reading ``clock``; its stall and feature-cache settings are
    such that nothing else in these tests is due."""
    return Sweeper(
        attrs.evolve(service, clock=clock),
        stall_timeout_s=300.0,
        job_deadline_s=3600.0,
        feature_cache_max_idle_s=365 * DAY_S,
        retention=policy,
    )


def now_clock() -> SetClock:
    return SetClock(datetime.now(UTC))


def job_with_objects(
    service: Service,
    profile: SingerProfile,
    status: JobStatus = JobStatus.DONE,
    *,
    input_hash: str | None = None,
    created_days_ago: float = 0.0,
) -> RenderJob:
    """A job of ``profile`` in ``status`` (not queued) with its input uploaded, chunks stored
    as a render leaves them (a failed job's, or a delivery whose cleanup missed) and, if done,
    its output; created ``created_days_ago``."""
    job = add_job(service, profile)
    move = {"user_id": job.user_id, "job_id": job.id}
    assert service.jobs.transition(
        **move, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING, input_hash=input_hash
    )
    for chunk in chunks_of(job):
        service.store.put(chunk, b"chunk")
    if status is JobStatus.DONE:
        output_key = job_output_key(job.user_id, job.id)
        service.store.put(output_key, b"RIFF-output")
        assert service.jobs.transition(
            **move,
            from_status=JobStatus.RUNNING,
            to_status=JobStatus.DONE,
            output_object_key=output_key,
        )
    elif status is JobStatus.FAILED:
        assert service.jobs.transition(
            **move,
            from_status=JobStatus.RUNNING,
            to_status=JobStatus.FAILED,
            error_code="generator_error",
            error_message="the generator returned NaN",
        )
    if created_days_ago:
        with engine_on(service.settings.database_url) as engine:
            backdate_job(
                engine,
                job.id,
                updated_ago=timedelta(0),  # moving: the stall sweep leaves it alone
                created_ago=timedelta(days=created_days_ago),
            )
    return service.jobs.get(user_id=job.user_id, job_id=job.id)


def objects_of(job: RenderJob) -> set[str]:
    """The keys of ``job``'s input, and of its chunks (unless it is queued) and output (if
    done), as these tests store them."""
    keys = {job.input_object_key} | (set() if job.status is JobStatus.QUEUED else chunks_of(job))
    return keys | ({job.output_object_key} if job.output_object_key else set())


def chunks_of(job: RenderJob) -> set[str]:
    return {chunk_key(job.user_id, job.id, i) for i in range(CHUNKS_PER_JOB)}


def stored(service: Service) -> set[str]:
    return set(service.store.list("users/"))


def reread(service: Service, job: RenderJob) -> RenderJob:
    return service.jobs.get(user_id=job.user_id, job_id=job.id)


def test_a_sweep_deletes_exactly_the_objects_past_their_retention(any_store_service):
    service = any_store_service
    profile = add_profile(service, USER)
    reference = add_reference(service, profile, reference_wav())
    profile_build(service, USER, profile.id)  # the reference marked it building: for the renders
    with connected(service.settings.database_url) as connection, connection.begin():
        references = tables.singer_references
        connection.execute(
            sa.update(references)
            .where(references.c.id == reference.id)
            .values(created_at=sa.func.now() - timedelta(days=400))
        )
    old = job_with_objects(service, profile, created_days_ago=61)
    month = job_with_objects(service, profile, created_days_ago=31)
    failed = job_with_objects(service, profile, JobStatus.FAILED, created_days_ago=3)
    young = job_with_objects(service, profile, created_days_ago=1)
    running = job_with_objects(service, profile, JobStatus.RUNNING, created_days_ago=40)
    cloned = job_with_objects(service, profile, created_days_ago=40)
    clone = add_job(service, profile, data=None, input_object_key=cloned.input_object_key)
    same_audio = job_with_objects(service, profile, input_hash=HASH, created_days_ago=40)
    rerender = add_job(service, profile, input_hash=HASH)  # the same audio, uploaded again
    before = stored(service)
    clock = now_clock()
    sweeper = make_sweeper(service, clock, RetentionPolicy())

    outcome = sweeper.sweep()

    assert outcome.retention == RetentionOutcome(
        chunks_expired=5, outputs_expired=1, inputs_expired=2
    )  # chunks: old, month, cloned and same_audio (done), failed (3 days old)
    gone = (
        objects_of(old)
        | chunks_of(month)
        | {month.input_object_key}
        | chunks_of(failed)
        | chunks_of(cloned)
        | chunks_of(same_audio)
    )
    assert stored(service) == before - gone
    assert reference.object_key in stored(service)  # a profile's reference never expires
    for kept in (young, running, clone, rerender):
        assert objects_of(kept) <= stored(service)
    swept = reread(service, old)
    assert swept.input_expired_at == swept.output_expired_at == swept.chunks_expired_at
    assert swept.input_expired_at == clock.now()
    assert reread(service, month).input_expired_at == clock.now()
    assert reread(service, month).output_expired_at is None
    for untouched in (young, running, clone, rerender):
        job = reread(service, untouched)
        assert (job.chunks_expired_at, job.input_expired_at, job.output_expired_at) == (
            None,
            None,
            None,
        )

    assert sweeper.sweep().retention == RetentionOutcome()  # swept once: chosen once
    assert stored(service) == before - gone

    # once the clone is rendered (from the input the sweep kept) and the re-render is done
    # with, the inputs they held go at the next pass
    render_to_end(service, USER, clone.id)
    assert reread(service, clone).status is JobStatus.DONE
    service.jobs.transition(
        user_id=USER, job_id=rerender.id, from_status=JobStatus.QUEUED, to_status=JobStatus.CANCELED
    )
    assert sweeper.sweep().retention == RetentionOutcome(inputs_expired=2)
    assert cloned.input_object_key not in stored(service)
    assert same_audio.input_object_key not in stored(service)
    assert rerender.input_object_key in stored(service)  # its own upload is a day's old
    assert reread(service, clone).input_expired_at == clock.now()  # the clone's too: shared


def test_the_clock_the_sweep_reads_decides_each_objects_age(service):
    """No row is backdated: the clock moves past each retention of a custom policy in turn."""
    profile = add_profile(service, USER)
    job = job_with_objects(service, profile)
    clock = SetClock(job.created_at)
    policy = RetentionPolicy(chunks_s=HOUR_S, inputs_s=DAY_S, outputs_s=2 * DAY_S)
    sweeper = make_sweeper(service, clock, policy)
    everything = objects_of(job)

    assert sweeper.sweep().retention == RetentionOutcome()
    clock.advance(HOUR_S)  # exactly the retention: still kept
    assert sweeper.sweep().retention == RetentionOutcome()
    clock.advance(1.0)
    assert sweeper.sweep().retention == RetentionOutcome(chunks_expired=1)
    assert stored(service) == everything - chunks_of(job)
    clock.advance(DAY_S)
    assert sweeper.sweep().retention == RetentionOutcome(inputs_expired=1)
    assert stored(service) == {job.output_object_key}
    clock.advance(DAY_S)
    assert sweeper.sweep().retention == RetentionOutcome(outputs_expired=1)
    assert stored(service) == set()
    assert sweeper.sweep().retention == RetentionOutcome()


class SlowDeletes:
    """The service's store, each delete taking 20 ms, counting how many run at once."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._running = 0
        self.most_at_once = 0

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def delete(self, key: str) -> None:
        with self._lock:
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
        try:
            time.sleep(0.02)
            self._inner.delete(key)
        finally:
            with self._lock:
                self._running -= 1


def test_two_sweepers_at_once_delete_each_object_once(any_store_service):
    service = any_store_service
    profile = add_profile(service, USER)
    aged = [job_with_objects(service, profile, created_days_ago=61) for _ in range(12)]
    young = [job_with_objects(service, profile, created_days_ago=1) for _ in range(3)]
    slow = SlowDeletes(service.store)
    clock = now_clock()
    sweepers = [
        make_sweeper(attrs.evolve(service, store=slow), clock, RetentionPolicy()) for _ in range(2)
    ]
    start = threading.Barrier(len(sweepers))
    outcomes: list[RetentionOutcome] = []

    def sweep(sweeper: Sweeper) -> None:
        start.wait()
        outcomes.append(sweeper.sweep().retention)

    threads = [threading.Thread(target=sweep, args=(sweeper,)) for sweeper in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(outcomes) == 2
    assert slow.most_at_once == 2  # the two passes did overlap
    total = RetentionOutcome(
        chunks_expired=sum(outcome.chunks_expired for outcome in outcomes),
        outputs_expired=sum(outcome.outputs_expired for outcome in outcomes),
        inputs_expired=sum(outcome.inputs_expired for outcome in outcomes),
    )
    assert total == RetentionOutcome(chunks_expired=12, outputs_expired=12, inputs_expired=12)
    assert stored(service) == set().union(*(objects_of(job) for job in young))
    assert all(reread(service, job).output_expired_at == clock.now() for job in aged)
    assert [sweeper.sweep().retention for sweeper in sweepers] == [RetentionOutcome()] * 2


def test_each_kind_is_taken_up_to_the_limit_a_pass_oldest_first(service):
    profile = add_profile(service, USER)
    jobs = [job_with_objects(service, profile, created_days_ago=days) for days in (63, 61, 62)]
    now = datetime.now(UTC)
    policy = RetentionPolicy()
    sweep = service.retention_sweep

    first = sweep.expire_outputs(
        now=now, policy=policy, limit=2, delete_object=service.store.delete
    )
    assert [job.id for job in first] == [jobs[0].id, jobs[2].id]
    second = sweep.expire_outputs(
        now=now, policy=policy, limit=2, delete_object=service.store.delete
    )
    assert [job.id for job in second] == [jobs[1].id]
    inputs = sweep.expire_inputs(
        now=now, policy=policy, limit=1, delete_object=service.store.delete
    )
    assert inputs == [jobs[0].input_object_key]


def test_a_deletion_that_fails_is_not_recorded_and_the_next_pass_does_it(service):
    profile = add_profile(service, USER)
    job = job_with_objects(service, profile, created_days_ago=61)
    refusing = SpyingStore(service.store)
    refusing.delete_error = StorageUnavailableError("cannot reach the store to delete")
    clock = now_clock()

    with pytest.raises(StorageUnavailableError, match="cannot reach the store"):
        make_sweeper(attrs.evolve(service, store=refusing), clock, RetentionPolicy()).sweep()

    assert reread(service, job).chunks_expired_at is None
    assert stored(service) == objects_of(job)
    outcome = make_sweeper(service, clock, RetentionPolicy()).sweep()
    assert outcome.retention == RetentionOutcome(
        chunks_expired=1, outputs_expired=1, inputs_expired=1
    )
    assert stored(service) == set()


def test_an_input_whose_job_is_held_by_a_clone_being_added_is_passed_by(service):
    """A job being added on the input holds its siblings' rows FOR KEY SHARE: the sweep passes
    the input by rather than wait or delete it under the new job, and takes it next pass."""
    profile = add_profile(service, USER)
    job = job_with_objects(service, profile, created_days_ago=31)
    held = sa.select(tables.render_jobs).where(tables.render_jobs.c.id == job.id)
    now = datetime.now(UTC)
    expire = {"now": now, "policy": RetentionPolicy(), "limit": 10}
    with connected(service.settings.database_url) as connection, connection.begin():
        connection.execute(held.with_for_update(read=True, key_share=True))
        kept = service.retention_sweep.expire_inputs(**expire, delete_object=service.store.delete)
        assert kept == []
    assert job.input_object_key in stored(service)
    gone = service.retention_sweep.expire_inputs(**expire, delete_object=service.store.delete)
    assert gone == [job.input_object_key]


def test_a_job_added_on_an_input_being_deleted_waits_and_is_refused(service):
    profile = add_profile(service, USER)
    original = job_with_objects(service, profile, created_days_ago=31)
    deleting, release = threading.Event(), threading.Event()

    def delete_slowly(key: str) -> None:
        deleting.set()
        assert release.wait(timeout=30)
        service.store.delete(key)

    swept: list[str] = []
    sweep = threading.Thread(
        target=lambda: swept.extend(
            service.retention_sweep.expire_inputs(
                now=datetime.now(UTC),
                policy=RetentionPolicy(),
                limit=10,
                delete_object=delete_slowly,
            )
        )
    )
    clone = RenderJob(
        id=uuid.uuid4(),
        user_id=USER,
        singer_profile_id=profile.id,
        input_object_key=original.input_object_key,
    )
    refused: list[BaseException] = []

    def add_clone() -> None:
        try:
            service.jobs.add(clone)
        except InputExpiredError as error:
            refused.append(error)

    adding = threading.Thread(target=add_clone)
    sweep.start()
    assert deleting.wait(timeout=30)
    adding.start()
    adding.join(timeout=1.0)
    assert adding.is_alive()  # waiting on the sweep's locks
    release.set()
    sweep.join(timeout=30)
    adding.join(timeout=30)

    assert swept == [original.input_object_key]
    assert len(refused) == 1
    assert "was deleted on" in refused[0].message and refused[0].code == "input_expired"
    assert service.jobs.get(user_id=USER, job_id=clone.id) is None
