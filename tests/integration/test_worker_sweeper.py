"""The sweeper over real PostgreSQL: a job whose messages were lost is queued again, one past
its deadline fails with ``render_timed_out``, a profile build whose message was lost is queued
again (one with no reference is not: it has nothing to build), and rows that are moving are
left alone. Idle feature-cache entries are evicted, blob (local store and S3) and row, except
those a job in flight may read; a render after an eviction extracts again."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import attrs
import pytest
import sqlalchemy as sa

from tests.fakes import InMemoryJobQueue
from tests.integration.migrated_database import connected, engine_on
from tests.integration.worker_world import (
    STEM_S,
    add_job,
    add_profile,
    add_reference,
    backdate_feature_cache_entry,
    backdate_job,
    backdate_profile,
    count_rows,
    job_error,
    make_service,
    reference_wav,
    render_to_end,
)
from voxregen_adapters.db import tables
from voxregen_adapters.service import Service
from voxregen_core import spec
from voxregen_core.errors import StorageUnavailableError
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.jobs import JobStatus, RenderJob
from voxregen_core.messages import ProfileBuildMessage, RenderChunkMessage, RenderJobMessage
from voxregen_core.params import RenderParams, Style
from voxregen_core.profiles import ProfileStatus
from voxregen_core.retention import RetentionPolicy
from voxregen_core.stub_generator import StubGenerator
from voxregen_worker.profile_build import profile_build
from voxregen_worker.render_job import Renderer
from voxregen_worker.sweeper import Sweeper, SweepOutcome

USER = uuid.UUID("dddddddd-dddd-4ddd-8ddd-dddddddddddd")
OTHER = uuid.UUID("eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee")
DAY_S = 86_400.0


@pytest.fixture
def engine(fresh_database_url) -> Iterator[sa.Engine]:
    """The test's own engine on the service's database, to backdate rows."""
    with engine_on(fresh_database_url) as engine:
        yield engine


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield attrs.evolve(service, queue=InMemoryJobQueue())
    service.close()


def make_sweeper(service: Service, *, job_deadline_s: float = 3600.0) -> Sweeper:
    """A sweeper with a 5-minute stall timeout, a one-day feature-cache retention and the
    default retention of jobs' objects."""
    return Sweeper(
        service,
        stall_timeout_s=300.0,
        job_deadline_s=job_deadline_s,
        feature_cache_max_idle_s=DAY_S,
        retention=RetentionPolicy(),
    )


def test_a_lost_job_is_queued_again_and_then_completes(service, engine):
    profile = add_profile(service, USER)
    lost = add_job(service, profile)
    moving = add_job(service, profile)
    backdate_job(
        engine,
        lost.id,
        updated_ago=timedelta(minutes=10),
        created_ago=timedelta(minutes=10),
    )
    sweeper = make_sweeper(service)

    assert sweeper.sweep() == SweepOutcome(jobs_requeued=1)
    assert sweeper.sweep() == SweepOutcome()  # claimed: not queued twice in one stall period

    assert service.queue.messages == [RenderJobMessage(user_id=USER, job_id=lost.id)]
    render_to_end(service, USER, lost.id)
    assert service.jobs.get(user_id=USER, job_id=lost.id).status is JobStatus.DONE
    assert service.jobs.get(user_id=USER, job_id=moving.id).status is JobStatus.QUEUED


def test_a_job_past_its_deadline_fails_with_a_clear_error(service, engine):
    job = add_job(service, add_profile(service, USER))
    service.jobs.transition(
        user_id=USER, job_id=job.id, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
    )
    backdate_job(
        engine,
        job.id,
        updated_ago=timedelta(minutes=10),
        created_ago=timedelta(hours=3),
    )
    sweeper = make_sweeper(service, job_deadline_s=7200.0)

    assert sweeper.sweep() == SweepOutcome(jobs_failed=1)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.FAILED
    code, message = job_error(service, job)
    assert code == "render_timed_out"
    assert message.startswith("the job was not done 7200 s after it was created")
    assert service.queue.messages == []


def test_a_lost_profile_build_is_queued_again(service, engine):
    lost = add_profile(service, USER, status=ProfileStatus.BUILDING)
    add_reference(service, lost, reference_wav())
    moving = add_profile(service, USER, status=ProfileStatus.BUILDING)  # changed just now
    add_reference(service, moving, reference_wav())
    add_profile(service, USER)  # ready: nothing to do
    backdate_profile(engine, lost.id, updated_ago=timedelta(minutes=10))
    sweeper = make_sweeper(service)

    assert sweeper.sweep() == SweepOutcome(profiles_requeued=1)
    assert sweeper.sweep() == SweepOutcome()

    assert service.queue.messages == [ProfileBuildMessage(user_id=USER, profile_id=lost.id)]


def test_a_new_profile_without_references_is_left_waiting_for_its_first(service, engine):
    """It has nothing to build: once the stall timeout passes the sweeper must not queue a
    build (which used to end the profile in ``error``, "needs at least one reference")."""
    waiting = add_profile(service, USER, status=ProfileStatus.BUILDING)
    backdate_profile(engine, waiting.id, updated_ago=timedelta(hours=1))
    sweeper = make_sweeper(service)

    assert sweeper.sweep() == SweepOutcome()

    assert service.queue.messages == []
    assert service.profiles.get(user_id=USER, profile_id=waiting.id).status is (
        ProfileStatus.BUILDING
    )
    add_reference(service, waiting, reference_wav())  # its first reference, then a lost message
    backdate_profile(engine, waiting.id, updated_ago=timedelta(hours=1))
    assert sweeper.sweep() == SweepOutcome(profiles_requeued=1)
    profile_build(service, USER, waiting.id)
    assert service.profiles.get(user_id=USER, profile_id=waiting.id).status is ProfileStatus.READY


# --- the feature cache's retention ----------------------------------------------------------


def entry_of(service: Service, job: RenderJob) -> FeatureCacheEntry:
    """The feature-cache entry of a rendered job's input."""
    done = service.jobs.get(user_id=job.user_id, job_id=job.id)
    return service.feature_cache.find(
        user_id=job.user_id, input_hash=done.input_hash, feature_version=spec.FEATURE_VERSION
    )


def add_entry(service: Service, user_id: uuid.UUID, input_hash: str) -> FeatureCacheEntry:
    """An entry with a (placeholder) blob stored under its key."""
    entry = FeatureCacheEntry.new(
        user_id=user_id,
        input_hash=input_hash,
        feature_version=spec.FEATURE_VERSION,
        duration_s=STEM_S,
        now=service.clock.now(),
    )
    service.store.put(entry.object_key, b"features")
    return service.feature_cache.add(entry)


def idle(service: Service, *entries: FeatureCacheEntry) -> None:
    for entry in entries:
        with engine_on(service.settings.database_url) as engine:
            backdate_feature_cache_entry(engine, entry.id, accessed_ago=timedelta(days=2))


def test_an_idle_entry_is_evicted_blob_and_row_and_the_next_render_extracts_again(
    any_store_service,
):
    service = any_store_service
    profile = add_profile(service, USER)
    first = add_job(service, profile)
    render_to_end(service, USER, first.id)
    entry = entry_of(service, first)
    before = service.jobs.get(user_id=USER, job_id=first.id)
    fresh = add_entry(service, USER, "ab" * 32)
    idle(service, entry)

    assert make_sweeper(service).sweep() == SweepOutcome(feature_cache_evicted=1)

    assert not service.store.exists(entry.object_key)
    assert entry_of(service, first) is None
    assert count_rows(service, tables.stem_feature_cache) == 1  # the fresh one stays
    assert service.store.exists(fresh.object_key)
    done = service.jobs.get(user_id=USER, job_id=first.id)
    assert done.status is JobStatus.DONE and done.stem_feature_cache_id is None  # SET NULL
    assert done.updated_at > before.updated_at  # the trigger sees the foreign key's update
    assert (
        attrs.evolve(done, stem_feature_cache_id=entry.id, updated_at=before.updated_at) == before
    )
    assert service.store.exists(done.output_object_key)

    again = add_job(service, profile, data=None, input_object_key=first.input_object_key)
    render_to_end(service, USER, again.id)
    rendered = service.jobs.get(user_id=USER, job_id=again.id)
    assert rendered.status is JobStatus.DONE
    assert rendered.metrics["feature_cache_hit"] is False
    assert service.store.exists(entry.object_key)  # extracted and stored again
    assert make_sweeper(service).sweep() == SweepOutcome()


def test_an_entry_a_job_in_flight_may_read_is_kept_however_idle(service):
    """A running job keeps the entry it refers to until it is done; a queued job that has not
    looked its features up yet keeps every entry of its user; another user's idle entry goes
    meanwhile, and so does this one once no job is in flight."""
    profile = add_profile(service, USER)
    first = add_job(service, profile)
    render_to_end(service, USER, first.id)
    entry = entry_of(service, first)
    others = add_entry(service, OTHER, "cd" * 32)
    sweeper = make_sweeper(service)

    midway = add_job(
        service,
        profile,
        data=None,
        input_object_key=first.input_object_key,
        params=RenderParams(style=Style.WARM),
    )
    queue = InMemoryJobQueue()
    renderer = Renderer(attrs.evolve(service, queue=queue), StubGenerator())
    renderer.render_job(USER, midway.id)  # running, its entry recorded, chunks queued
    idle(service, entry, others)
    assert sweeper.sweep() == SweepOutcome(feature_cache_evicted=1)
    assert not service.store.exists(others.object_key)
    for chunk in queue.of_type(RenderChunkMessage):
        renderer.render_chunk(chunk.user_id, chunk.job_id, chunk.chunk_index)
    finished = service.jobs.get(user_id=USER, job_id=midway.id)
    assert finished.status is JobStatus.DONE and finished.metrics["feature_cache_hit"] is True

    waiting = add_job(service, profile, data=None, input_object_key=first.input_object_key)
    idle(service, entry)
    assert sweeper.sweep() == SweepOutcome()  # waiting may be about to hit it
    render_to_end(service, USER, waiting.id)
    hit = service.jobs.get(user_id=USER, job_id=waiting.id)
    assert hit.metrics["feature_cache_hit"] is True and hit.stem_feature_cache_id == entry.id

    idle(service, entry)
    assert sweeper.sweep() == SweepOutcome(feature_cache_evicted=1)
    assert not service.store.exists(entry.object_key)


def test_an_entry_a_writer_holds_is_skipped_without_waiting(service):
    """A job recording the entry (its foreign-key check holds a KEY SHARE lock) makes the sweep
    pass it by rather than wait or delete it under the job."""
    entry = add_entry(service, USER, "ab" * 32)
    idle(service, entry)
    held = sa.select(tables.stem_feature_cache).where(tables.stem_feature_cache.c.id == entry.id)
    with connected(service.settings.database_url) as connection, connection.begin():
        connection.execute(held.with_for_update(key_share=True))
        assert make_sweeper(service).sweep() == SweepOutcome()
    assert make_sweeper(service).sweep() == SweepOutcome(feature_cache_evicted=1)


class UndeletableStore:
    """The service's store, refusing deletes as a store that is down would."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def delete(self, key: str) -> None:
        raise StorageUnavailableError(f"cannot reach the store to delete {key}")


def test_a_blob_that_cannot_be_deleted_keeps_its_row_for_the_next_pass(service):
    entry = add_entry(service, USER, "ab" * 32)
    idle(service, entry)
    refusing = attrs.evolve(service, store=UndeletableStore(service.store))

    with pytest.raises(StorageUnavailableError, match="cannot reach the store to delete"):
        make_sweeper(refusing).sweep()

    assert count_rows(service, tables.stem_feature_cache) == 1
    assert service.store.exists(entry.object_key)
    assert make_sweeper(service).sweep() == SweepOutcome(feature_cache_evicted=1)
    assert not service.store.exists(entry.object_key)
