"""The PostgreSQL repositories over a real, migrated database: round trips, guarded job
moves (raced by real concurrent connections) and, for every method, user isolation."""

import inspect
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import attrs
import pytest
import sqlalchemy as sa

from voxregen_adapters.db import tables
from voxregen_adapters.db.api_key_repository import PostgresApiKeyRepository
from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.db.exemplar_repository import PostgresSingerExemplarRepository
from voxregen_adapters.db.feature_cache_eviction import PostgresFeatureCacheEviction
from voxregen_adapters.db.feature_cache_repository import PostgresFeatureCacheRepository
from voxregen_adapters.db.idempotency_key_repository import PostgresIdempotencyKeyRepository
from voxregen_adapters.db.profile_repository import PostgresSingerProfileRepository
from voxregen_adapters.db.reference_repository import PostgresSingerReferenceRepository
from voxregen_adapters.db.render_job_repository import (
    COUNT_TIMEOUT_MS,
    PostgresRenderJobRepository,
)
from voxregen_adapters.db.retention_sweep import PostgresRetentionSweep
from voxregen_adapters.db.webhook_secret_repository import PostgresWebhookSecretRepository
from voxregen_core import ports
from voxregen_core.api_keys import ApiKey, new_api_key
from voxregen_core.errors import (
    ConflictError,
    DatabaseUnavailableError,
    InputExpiredError,
    InvalidParamsError,
    NotFoundError,
    TooManyActiveJobsError,
)
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.idempotency import Claimed, StoredAnswer
from voxregen_core.jobs import JobStatus, Progress, RenderJob
from voxregen_core.keys import job_input_key, job_output_key, reference_key
from voxregen_core.pagination import PagePosition, PageRequest
from voxregen_core.params import RenderParams, Style
from voxregen_core.profiles import ProfileStatus, SingerExemplar, SingerProfile, SingerReference
from voxregen_core.retention import RetentionPolicy
from voxregen_core.webhooks import WebhookAttempt, WebhookEvent

USER_A = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
USER_B = uuid.UUID("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.frozen
class Repositories:
    profiles: PostgresSingerProfileRepository
    references: PostgresSingerReferenceRepository
    exemplars: PostgresSingerExemplarRepository
    jobs: PostgresRenderJobRepository
    feature_cache: PostgresFeatureCacheRepository
    feature_cache_eviction: PostgresFeatureCacheEviction
    retention_sweep: PostgresRetentionSweep
    idempotency_keys: PostgresIdempotencyKeyRepository
    webhook_secrets: PostgresWebhookSecretRepository
    api_keys: PostgresApiKeyRepository


PORTS = {
    "profiles": ports.SingerProfileRepository,
    "references": ports.SingerReferenceRepository,
    "exemplars": ports.SingerExemplarRepository,
    "jobs": ports.RenderJobRepository,
    "feature_cache": ports.FeatureCacheRepository,
    "feature_cache_eviction": ports.FeatureCacheEviction,
    "retention_sweep": ports.RetentionSweep,
    "idempotency_keys": ports.IdempotencyKeyRepository,
    "webhook_secrets": ports.WebhookSecretRepository,
    "api_keys": ports.ApiKeyRepository,
}


@pytest.fixture
def repos(pg_engine) -> Repositories:
    return Repositories(
        profiles=PostgresSingerProfileRepository(pg_engine),
        references=PostgresSingerReferenceRepository(pg_engine),
        exemplars=PostgresSingerExemplarRepository(pg_engine),
        jobs=PostgresRenderJobRepository(pg_engine),
        feature_cache=PostgresFeatureCacheRepository(pg_engine),
        feature_cache_eviction=PostgresFeatureCacheEviction(pg_engine),
        retention_sweep=PostgresRetentionSweep(pg_engine),
        idempotency_keys=PostgresIdempotencyKeyRepository(pg_engine),
        webhook_secrets=PostgresWebhookSecretRepository(pg_engine),
        api_keys=PostgresApiKeyRepository(pg_engine),
    )


def _profile(user_id: uuid.UUID, **fields) -> SingerProfile:
    return SingerProfile(
        id=uuid.uuid4(),
        user_id=user_id,
        name="Ada",
        status=ProfileStatus.BUILDING,
        embedding_version="stub-v1",
        **fields,
    )


def _reference(profile: SingerProfile, **fields) -> SingerReference:
    ref_id = fields.pop("id", uuid.uuid4())
    return SingerReference(
        id=ref_id,
        user_id=profile.user_id,
        singer_profile_id=profile.id,
        object_key=reference_key(profile.user_id, profile.id, ref_id),
        duration_s=12.5,
        **fields,
    )


def _exemplar(reference: SingerReference, **fields) -> SingerExemplar:
    exemplar = SingerExemplar(
        id=uuid.uuid4(),
        singer_profile_id=reference.singer_profile_id,
        source_reference_id=reference.id,
        embedding=b"\x00\x01\x02\x03",
        f0_p50_hz=220.0,
        f0_p90_hz=330.0,
        voiced_pct=64.5,
        energy_db=-21.5,
    )
    return attrs.evolve(exemplar, **fields)


def _entry(user_id: uuid.UUID, input_hash: str = "ab" * 32) -> FeatureCacheEntry:
    return FeatureCacheEntry.new(
        user_id=user_id, input_hash=input_hash, feature_version="v1", duration_s=12.5, now=T0
    )


def _job(profile: SingerProfile, **fields) -> RenderJob:
    job_id = uuid.uuid4()
    return RenderJob(
        id=job_id,
        user_id=profile.user_id,
        singer_profile_id=profile.id,
        input_object_key=job_input_key(profile.user_id, job_id),
        params=RenderParams(style=Style.WARM, intensity=0.25),
        **fields,
    )


def _url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


# --- every adapter satisfies its port -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PORTS))
def test_each_repository_satisfies_its_port(repos, name):
    assert isinstance(getattr(repos, name), PORTS[name])


# --- profiles --------------------------------------------------------------------------------


def test_profile_round_trip_with_server_timestamps(repos):
    before = datetime.now(UTC)
    profile = _profile(USER_A, stats={"n_references": 0})
    stored = repos.profiles.add(profile)
    assert attrs.evolve(stored, created_at=None, updated_at=None) == profile
    assert stored.created_at == stored.updated_at
    assert before - timedelta(seconds=5) < stored.created_at < before + timedelta(seconds=5)
    assert stored.created_at.tzinfo == UTC
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id) == stored


def _record_build(repos: Repositories, profile: SingerProfile, **fields) -> bool:
    """``record_build`` of a stub build from ``built_from`` (default: no reference) with
    ``exemplars`` (default: none)."""
    return repos.profiles.record_build(
        **{
            "user_id": profile.user_id,
            "profile_id": profile.id,
            "built_from": [],
            "embedding_version": "stub-v1",
            "profile_embedding": b"\x01" * 8,
            "cluster_embeddings": b"\x02" * 16,
            "stats": {"n_references": 1, "total_duration_s": 12.5},
            "exemplars": [],
            **fields,
        }
    )


def test_record_build_marks_ready_and_the_trigger_moves_updated_at(repos):
    stored = repos.profiles.add(_profile(USER_A))
    assert _record_build(repos, stored)
    built = repos.profiles.get(user_id=USER_A, profile_id=stored.id)
    assert (built.status, built.profile_embedding, built.cluster_embeddings) == (
        ProfileStatus.READY,
        b"\x01" * 8,
        b"\x02" * 16,
    )
    assert built.stats == {"n_references": 1, "total_duration_s": 12.5}
    assert built.created_at == stored.created_at
    assert built.updated_at > stored.updated_at


def test_a_build_failure_marks_error_and_drops_the_exemplars(repos):
    profile = repos.profiles.add(_profile(USER_A))
    reference = repos.references.add(_reference(profile))
    assert _record_build(
        repos, profile, built_from=[reference.id], exemplars=[_exemplar(reference)]
    )
    failure = {"n_references": 0, "error": {"code": "invalid_input", "message": "too short"}}
    assert repos.profiles.record_build_failure(
        user_id=USER_A, profile_id=profile.id, built_from=[reference.id], stats=failure
    )
    failed = repos.profiles.get(user_id=USER_A, profile_id=profile.id)
    assert (failed.status, failed.stats) == (ProfileStatus.ERROR, failure)
    assert repos.exemplars.list_for_profile(user_id=USER_A, profile_id=profile.id) == []


def test_adding_or_deleting_a_reference_marks_the_profile_building(repos):
    profile = repos.profiles.add(_profile(USER_A))
    first = repos.references.add(_reference(profile))
    assert _record_build(repos, profile, built_from=[first.id])
    second = repos.references.add(_reference(profile))
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id).status is (
        ProfileStatus.BUILDING
    )
    assert _record_build(repos, profile, built_from=[first.id, second.id])
    repos.references.delete(user_id=USER_A, reference_id=second.id, delete_object=lambda _: None)
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id).status is (
        ProfileStatus.BUILDING
    )


def test_a_build_is_recorded_only_if_the_references_are_those_it_was_built_from(repos):
    """A build that read ``first`` alone is out of date once ``second`` is committed, and one
    that read both once ``second`` is deleted: nothing changes (the profile stays
    ``building``, its exemplars and embedding those it had)."""
    profile = repos.profiles.add(_profile(USER_A))
    first = repos.references.add(_reference(profile))
    second = repos.references.add(_reference(profile))
    before = repos.profiles.get(user_id=USER_A, profile_id=profile.id)
    failure = {"error": {"code": "invalid_input", "message": "too short"}}
    for built_from in ([first.id], [first.id, second.id, uuid.uuid4()], []):
        assert not _record_build(
            repos, profile, built_from=built_from, exemplars=[_exemplar(first)]
        )
        assert not repos.profiles.record_build_failure(
            user_id=USER_A, profile_id=profile.id, built_from=built_from, stats=failure
        )
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id) == before
    assert repos.exemplars.list_for_profile(user_id=USER_A, profile_id=profile.id) == []

    assert _record_build(repos, profile, built_from=[second.id, first.id])  # any order
    repos.references.delete(user_id=USER_A, reference_id=second.id, delete_object=lambda _: None)
    assert not _record_build(repos, profile, built_from=[first.id, second.id])
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id).status is (
        ProfileStatus.BUILDING
    )
    assert not _record_build(repos, _profile(USER_A), built_from=[])  # no such profile


def test_a_build_recorded_while_a_reference_is_being_committed_waits_and_sees_it(repos, pg_engine):
    """The check reads the references after taking the profile's row lock: a commit in
    flight (holding that lock, its reference inserted, as ``references.add`` does) makes the
    build wait, and once it commits the build sees its reference and records nothing. A
    single conditional UPDATE would have kept its first snapshot and marked the profile
    ``ready``."""
    profile = repos.profiles.add(_profile(USER_A))
    first = repos.references.add(_reference(profile))
    second = _reference(profile)
    owned = tables.singer_profiles.c.id == profile.id
    with pg_engine.connect() as commit, ThreadPoolExecutor(max_workers=1) as pool:
        with commit.begin():
            commit.execute(sa.update(tables.singer_profiles).where(owned).values(status="building"))
            commit.execute(
                sa.insert(tables.singer_references).values(
                    id=second.id,
                    user_id=USER_A,
                    singer_profile_id=profile.id,
                    object_key=second.object_key,
                    duration_sec=0.0,
                    quality_metrics={},
                )
            )
            recorded = pool.submit(_record_build, repos, profile, built_from=[first.id])
            _wait_for_a_lock_wait(pg_engine)
            assert not recorded.done()
        assert not recorded.result(timeout=10)
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id).status is (
        ProfileStatus.BUILDING
    )


def _wait_for_a_lock_wait(engine: sa.Engine, timeout_s: float = 10.0) -> None:
    """Return once a session of the database waits for a row lock (else fail)."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + timeout_s
    while True:
        with engine.begin() as connection:  # pg_stat_activity is read once per transaction
            if connection.execute(waiting).scalar_one():
                return
        assert time.monotonic() < deadline, "no session waited for the profile's row lock"
        time.sleep(0.02)


def test_set_status(repos):
    stored = repos.profiles.add(_profile(USER_A))
    assert repos.profiles.set_status(
        user_id=USER_A, profile_id=stored.id, status=ProfileStatus.ERROR
    )
    assert repos.profiles.get(user_id=USER_A, profile_id=stored.id).status is ProfileStatus.ERROR
    assert not repos.profiles.set_status(
        user_id=USER_A, profile_id=uuid.uuid4(), status=ProfileStatus.READY
    )


def test_adding_a_taken_id_is_a_conflict(repos):
    profile = repos.profiles.add(_profile(USER_A))
    with pytest.raises(ConflictError, match=rf"singer_profiles: Key \(id\)=\({profile.id}\)"):
        repos.profiles.add(attrs.evolve(profile, name="Other"))
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id).name == "Ada"


# --- references and exemplars ---------------------------------------------------------------


def test_reference_round_trip_list_and_quality(repos):
    profile = repos.profiles.add(_profile(USER_A))
    first = repos.references.add(_reference(profile))
    second = repos.references.add(_reference(profile, accepted=False))
    assert first.accepted and first.duration_s == 12.5 and first.quality_metrics == {}
    assert repos.references.get(user_id=USER_A, reference_id=first.id) == first
    assert repos.references.list_for_profile(user_id=USER_A, profile_id=profile.id) == [
        first,
        second,
    ]
    assert repos.references.record_quality(
        user_id=USER_A,
        reference_id=second.id,
        quality_metrics={"problems": ["too short"]},
        accepted=False,
    )
    updated = repos.references.get(user_id=USER_A, reference_id=second.id)
    assert (updated.quality_metrics, updated.accepted) == ({"problems": ["too short"]}, False)


def test_reference_of_a_missing_profile_is_refused(repos):
    missing = _profile(USER_A)
    with pytest.raises(NotFoundError, match=f"no singer profile {missing.id}"):
        repos.references.add(_reference(missing))


def test_recording_a_build_replaces_its_exemplars_atomically_and_idempotently(repos):
    profile = repos.profiles.add(_profile(USER_A))
    reference = repos.references.add(_reference(profile))
    built_from = [reference.id]
    exemplars = [_exemplar(reference), _exemplar(reference, energy_db=-30.0)]
    assert _record_build(repos, profile, built_from=built_from, exemplars=exemplars)
    rebuilt = [_exemplar(reference, f0_p50_hz=110.0)]
    assert _record_build(repos, profile, built_from=built_from, exemplars=rebuilt)
    stored = repos.exemplars.list_for_profile(user_id=USER_A, profile_id=profile.id)
    assert [attrs.evolve(e, created_at=None) for e in stored] == rebuilt

    built = repos.profiles.get(user_id=USER_A, profile_id=profile.id)
    unknown = attrs.evolve(rebuilt[0], id=uuid.uuid4(), source_reference_id=uuid.uuid4())
    with pytest.raises(NotFoundError, match=f"no reference {unknown.source_reference_id}"):
        _record_build(
            repos, profile, built_from=built_from, exemplars=[unknown], stats={"changed": 1}
        )
    assert repos.exemplars.list_for_profile(user_id=USER_A, profile_id=profile.id) == stored
    assert repos.profiles.get(user_id=USER_A, profile_id=profile.id) == built


def test_an_exemplar_of_another_profile_is_refused(repos):
    profile = repos.profiles.add(_profile(USER_A))
    other = repos.profiles.add(_profile(USER_A))
    exemplar = _exemplar(repos.references.add(_reference(other)))
    with pytest.raises(NotFoundError, match=f"is not of singer profile {profile.id}"):
        _record_build(repos, profile, exemplars=[exemplar])


# --- render jobs ------------------------------------------------------------------------------


def test_job_round_trip(repos):
    profile = repos.profiles.add(_profile(USER_A))
    job = _job(profile, progress=Progress(chunks_done=0, chunks_total=3))
    stored = repos.jobs.add(job)
    assert attrs.evolve(stored, created_at=None, updated_at=None) == job
    assert repos.jobs.get(user_id=USER_A, job_id=job.id) == stored


def test_a_job_moves_queued_running_done_carrying_its_results(repos):
    profile = repos.profiles.add(_profile(USER_A))
    entry = repos.feature_cache.add(_entry(USER_A))
    job = repos.jobs.add(_job(profile))
    move = {"user_id": USER_A, "job_id": job.id}
    assert repos.jobs.transition(**move, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING)
    assert repos.jobs.update_progress(**move, progress=Progress(chunks_done=2, chunks_total=5))
    assert repos.jobs.transition(
        **move,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.DONE,
        input_hash=entry.input_hash,
        stem_feature_cache_id=entry.id,
        output_object_key=job_output_key(USER_A, job.id),
        metrics={"runtime_sec": 1.5, "loudness_lufs": -18.0},
    )
    done = repos.jobs.get(**move)
    assert done.status is JobStatus.DONE
    assert done.progress == Progress(chunks_done=2, chunks_total=5)
    assert (done.input_hash, done.stem_feature_cache_id) == (entry.input_hash, entry.id)
    assert done.output_object_key == job_output_key(USER_A, job.id)
    assert done.metrics == {"runtime_sec": 1.5, "loudness_lufs": -18.0}
    assert done.updated_at > job.updated_at
    assert not repos.jobs.update_progress(**move, progress=Progress(chunks_done=5, chunks_total=5))
    assert repos.jobs.get(**move).progress == Progress(chunks_done=2, chunks_total=5)


def test_a_job_on_an_input_the_retention_sweep_deleted_is_refused(repos):
    """A clone of a job whose input was swept, or a new job on its key (the original deleted,
    its clone left): refused, nothing inserted."""
    profile = repos.profiles.add(_profile(USER_A))
    original = repos.jobs.add(_job(profile))
    move = {"user_id": USER_A, "job_id": original.id}
    assert repos.jobs.transition(**move, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING)
    assert repos.jobs.transition(
        **move,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.DONE,
        output_object_key=job_output_key(USER_A, original.id),
    )
    later = datetime.now(UTC) + timedelta(days=31)
    swept = repos.retention_sweep.expire_inputs(
        now=later, policy=RetentionPolicy(), limit=10, delete_object=lambda key: None
    )
    assert swept == [original.input_object_key]
    assert repos.jobs.get(**move).input_expired_at == later
    clone = attrs.evolve(_job(profile), input_object_key=original.input_object_key)
    with pytest.raises(InputExpiredError, match=rf"input {original.input_object_key} was deleted"):
        repos.jobs.add(clone)
    assert repos.jobs.get(user_id=USER_A, job_id=clone.id) is None
    other_input = repos.jobs.add(_job(profile))  # another input is not concerned
    assert other_input.input_expired_at is None


def test_a_failed_job_keeps_its_error(repos):
    job = repos.jobs.add(_job(repos.profiles.add(_profile(USER_A))))
    move = {"user_id": USER_A, "job_id": job.id}
    assert repos.jobs.transition(
        **move,
        from_status=JobStatus.QUEUED,
        to_status=JobStatus.FAILED,
        error_code="not_a_wav",
        error_message="the upload is an MP3",
    )
    failed = repos.jobs.get(**move)
    assert failed.status is JobStatus.FAILED
    assert (failed.error_code, failed.error_message) == ("not_a_wav", "the upload is an MP3")


def test_a_stale_from_status_changes_nothing(repos):
    job = repos.jobs.add(_job(repos.profiles.add(_profile(USER_A))))
    assert not repos.jobs.transition(
        user_id=USER_A,
        job_id=job.id,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.DONE,
        output_object_key=job_output_key(USER_A, job.id),
    )
    assert repos.jobs.get(user_id=USER_A, job_id=job.id) == job


@pytest.mark.parametrize(
    ("from_status", "to_status", "fields", "message"),
    [
        (JobStatus.QUEUED, JobStatus.DONE, {}, "cannot move from queued to done"),
        (JobStatus.DONE, JobStatus.RUNNING, {}, "cannot move from done to running"),
        (JobStatus.FAILED, JobStatus.QUEUED, {}, "cannot move from failed to queued"),
        (JobStatus.RUNNING, JobStatus.DONE, {}, "output_object_key goes with a move to done"),
        (
            JobStatus.QUEUED,
            JobStatus.RUNNING,
            {"output_object_key": "x"},
            "output_object_key goes with a move to done",
        ),
        (JobStatus.RUNNING, JobStatus.FAILED, {"error_code": "x"}, "error_code and error_message"),
        (
            JobStatus.QUEUED,
            JobStatus.RUNNING,
            {"error_code": "x", "error_message": "y"},
            "error_code and error_message go with a move to failed",
        ),
    ],
)
def test_moves_the_rules_refuse_raise(repos, from_status, to_status, fields, message):
    job = repos.jobs.add(_job(repos.profiles.add(_profile(USER_A))))
    with pytest.raises(InvalidParamsError, match=message):
        repos.jobs.transition(
            user_id=USER_A, job_id=job.id, from_status=from_status, to_status=to_status, **fields
        )
    assert repos.jobs.get(user_id=USER_A, job_id=job.id) == job


def _in_threads(function: Callable[[int], None], engines: list[sa.Engine]) -> None:
    """``function(index)`` in a thread per engine, all at once; then the engines disposed."""
    threads = [threading.Thread(target=function, args=(index,)) for index in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for engine in engines:
        engine.dispose()


def test_two_workers_racing_for_a_job_exactly_one_wins(repos, pg_engine):
    profile = repos.profiles.add(_profile(USER_A))
    jobs = [repos.jobs.add(_job(profile)) for _ in range(20)]
    # Each worker has its own engine, so the two UPDATEs run on separate connections.
    engines = [create_database_engine(_url(pg_engine)) for _ in range(2)]
    workers = [PostgresRenderJobRepository(engine) for engine in engines]
    barrier = threading.Barrier(len(workers))
    wins: list[list[bool]] = [[] for _ in workers]

    def work(index: int) -> None:
        for job in jobs:
            barrier.wait()
            won = workers[index].transition(
                user_id=USER_A,
                job_id=job.id,
                from_status=JobStatus.QUEUED,
                to_status=JobStatus.RUNNING,
            )
            wins[index].append(won)

    _in_threads(work, engines)
    assert [a + b for a, b in zip(*wins, strict=True)] == [1] * len(jobs)
    assert {repos.jobs.get(user_id=USER_A, job_id=job.id).status for job in jobs} == {
        JobStatus.RUNNING
    }


def test_racing_adds_of_one_feature_cache_entry_agree(repos, pg_engine):
    rivals = [_entry(USER_A), _entry(USER_A)]
    engines = [create_database_engine(_url(pg_engine)) for _ in rivals]
    barrier = threading.Barrier(len(rivals))
    results: dict[int, FeatureCacheEntry] = {}

    def add(index: int) -> None:
        repository = PostgresFeatureCacheRepository(engines[index])
        barrier.wait()
        results[index] = repository.add(rivals[index])

    _in_threads(add, engines)
    assert results[0] == results[1]
    assert results[0].id in {rival.id for rival in rivals}


def test_jobs_are_counted_by_status_across_users_with_every_status_present(repos):
    assert repos.jobs.count_by_status() == dict.fromkeys(JobStatus, 0)
    made = {JobStatus.QUEUED: 3, JobStatus.RUNNING: 2, JobStatus.FAILED: 1}
    failing = {"error_code": "render_timed_out", "error_message": "too long"}
    for user_id in (USER_A, USER_B):
        profile = repos.profiles.add(_profile(user_id))
        for status, count in made.items():
            for _ in range(count):
                job = repos.jobs.add(_job(profile))
                assert status is JobStatus.QUEUED or repos.jobs.transition(
                    user_id=user_id,
                    job_id=job.id,
                    from_status=JobStatus.QUEUED,
                    to_status=status,
                    **(failing if status is JobStatus.FAILED else {}),
                )
    assert repos.jobs.count_by_status() == {
        JobStatus.QUEUED: 6,
        JobStatus.RUNNING: 4,
        JobStatus.DONE: 0,
        JobStatus.FAILED: 2,
        JobStatus.CANCELED: 0,
    }


def test_a_count_the_database_cannot_make_in_time_raises_database_unavailable(repos, pg_engine):
    """A lock held on the table blocks the count; the statement timeout cancels it, so a scrape
    never hangs on the database."""
    with pg_engine.connect() as holder:
        holder.execute(sa.text("LOCK TABLE render_jobs IN ACCESS EXCLUSIVE MODE"))
        started_s = time.monotonic()
        with pytest.raises(DatabaseUnavailableError, match="statement timeout"):
            repos.jobs.count_by_status()
        waited_s = time.monotonic() - started_s
        holder.rollback()
    assert COUNT_TIMEOUT_MS / 1000 <= waited_s < COUNT_TIMEOUT_MS / 1000 + 2.0


def test_an_unreachable_database_raises_database_unavailable():
    engine = create_database_engine("postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailableError, match="cannot use the database: .*127.0.0.1"):
        PostgresSingerProfileRepository(engine).get(user_id=USER_A, profile_id=uuid.uuid4())


# --- user isolation: user B can neither read nor change user A's rows, through any method ----


@attrs.frozen
class World:
    """User A's rows (one of each table) and user B's own profile."""

    profile: SingerProfile
    reference: SingerReference
    exemplar: SingerExemplar
    entry: FeatureCacheEntry
    job: RenderJob
    b_profile: SingerProfile


@pytest.fixture
def world(repos) -> World:
    profile = repos.profiles.add(_profile(USER_A, stats={"n_references": 1}))
    reference = repos.references.add(_reference(profile))
    exemplar = _exemplar(reference)
    _record_build(repos, profile, built_from=[reference.id], exemplars=[exemplar])
    repos.profiles.set_status(user_id=USER_A, profile_id=profile.id, status=ProfileStatus.BUILDING)
    entry = repos.feature_cache.add(_entry(USER_A))
    job = repos.jobs.add(_job(profile))
    repos.jobs.transition(
        user_id=USER_A, job_id=job.id, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
    )
    b_profile = repos.profiles.add(_profile(USER_B))
    claim = {"user_id": USER_A, "key": A_KEY, "fingerprint": "a's request"}
    repos.idempotency_keys.claim(**claim, now=datetime.now(UTC))
    answer = StoredAnswer(status_code=201, body=b'{"id": "a-s"}')
    repos.idempotency_keys.answer(user_id=USER_A, key=A_KEY, answer=answer)
    repos.webhook_secrets.secret_for(user_id=USER_A)
    repos.api_keys.add(new_api_key(user_id=USER_A, name="a's").row)
    return World(profile, reference, exemplar, entry, job, b_profile)


def _b_adds_a_profile_with_as_id(repos: Repositories, w: World) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        repos.profiles.add(attrs.evolve(w.profile, user_id=USER_B, name="Mine now"))


def _b_gets_as_profile(repos: Repositories, w: World) -> None:
    assert repos.profiles.get(user_id=USER_B, profile_id=w.profile.id) is None


def _b_sets_as_profile_status(repos: Repositories, w: World) -> None:
    assert not repos.profiles.set_status(
        user_id=USER_B, profile_id=w.profile.id, status=ProfileStatus.ERROR
    )


def _never_called(what):
    raise AssertionError(f"asked to delete the objects of {what}")


def _b_forgets_as_build(repos: Repositories, w: World) -> None:
    assert not repos.profiles.forget_build(user_id=USER_B, profile_id=w.profile.id)


def _b_deletes_as_profile(repos: Repositories, w: World) -> None:
    assert not repos.profiles.delete(
        user_id=USER_B, profile_id=w.profile.id, delete_objects=_never_called
    )


def _b_deletes_as_reference(repos: Repositories, w: World) -> None:
    deleted = repos.references.delete(
        user_id=USER_B, reference_id=w.reference.id, delete_object=_never_called
    )
    assert deleted is None


def _b_records_a_build_on_as_profile(repos: Repositories, w: World) -> None:
    for built_from in ([], [w.reference.id]):
        forged = attrs.evolve(w.profile, user_id=USER_B)
        assert not _record_build(repos, forged, built_from=built_from, stats={})
    stolen = attrs.evolve(_exemplar(w.reference), singer_profile_id=w.b_profile.id)
    assert not _record_build(repos, w.b_profile, built_from=[w.reference.id], exemplars=[stolen])
    with pytest.raises(NotFoundError, match=f"no reference {w.reference.id}"):
        _record_build(repos, w.b_profile, exemplars=[stolen])


def _b_records_a_build_failure_on_as_profile(repos: Repositories, w: World) -> None:
    for built_from in ([], [w.reference.id]):
        assert not repos.profiles.record_build_failure(
            user_id=USER_B, profile_id=w.profile.id, built_from=built_from, stats={}
        )


def _b_adds_a_reference_to_as_profile(repos: Repositories, w: World) -> None:
    with pytest.raises(NotFoundError, match=f"no singer profile {w.profile.id}"):
        repos.references.add(attrs.evolve(_reference(w.profile), user_id=USER_B))


def _b_gets_as_reference(repos: Repositories, w: World) -> None:
    assert repos.references.get(user_id=USER_B, reference_id=w.reference.id) is None


def _b_lists_as_references(repos: Repositories, w: World) -> None:
    assert repos.references.list_for_profile(user_id=USER_B, profile_id=w.profile.id) == []


def _b_records_quality_on_as_reference(repos: Repositories, w: World) -> None:
    assert not repos.references.record_quality(
        user_id=USER_B, reference_id=w.reference.id, quality_metrics={"x": 1}, accepted=False
    )


def _b_lists_as_exemplars(repos: Repositories, w: World) -> None:
    assert repos.exemplars.list_for_profile(user_id=USER_B, profile_id=w.profile.id) == []


def _b_pages_through_as_profiles(repos: Repositories, w: World) -> None:
    page = repos.profiles.list_page(user_id=USER_B, page=PageRequest(limit=100))
    assert [profile.id for profile in page] == [w.b_profile.id]


def _b_pages_through_as_references(repos: Repositories, w: World) -> None:
    page = PageRequest(limit=100)
    assert repos.references.list_page(user_id=USER_B, profile_id=w.profile.id, page=page) == []


def _b_pages_through_as_jobs(repos: Repositories, w: World) -> None:
    page = PageRequest(limit=100)
    assert repos.jobs.list_page(user_id=USER_B, page=page) == []
    assert repos.jobs.list_page(user_id=USER_B, page=page, singer_profile_id=w.profile.id) == []
    after_as = PageRequest(
        limit=100, after=PagePosition(created_at=T0 + timedelta(days=999), id=w.job.id)
    )
    assert repos.jobs.list_page(user_id=USER_B, page=after_as, status=w.job.status) == []


def _b_deletes_as_job(repos: Repositories, w: World) -> None:
    assert not repos.jobs.delete(user_id=USER_B, job_id=w.job.id, delete_objects=_never_called)


def _b_adds_a_job_on_as_rows(repos: Repositories, w: World) -> None:
    with pytest.raises(NotFoundError, match=f"no singer profile {w.profile.id}"):
        repos.jobs.add(attrs.evolve(_job(w.profile), user_id=USER_B))
    with pytest.raises(NotFoundError, match=f"no feature-cache entry {w.entry.id}"):
        repos.jobs.add(_job(w.b_profile, stem_feature_cache_id=w.entry.id))


def _b_gets_as_job(repos: Repositories, w: World) -> None:
    assert repos.jobs.get(user_id=USER_B, job_id=w.job.id) is None


def _b_moves_as_job(repos: Repositories, w: World) -> None:
    assert not repos.jobs.transition(
        user_id=USER_B,
        job_id=w.job.id,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.FAILED,
        error_code="x",
        error_message="y",
    )
    own = repos.jobs.add(_job(w.b_profile, status=JobStatus.RUNNING))
    with pytest.raises(NotFoundError, match=f"no feature-cache entry {w.entry.id}"):
        repos.jobs.transition(
            user_id=USER_B,
            job_id=own.id,
            from_status=JobStatus.RUNNING,
            to_status=JobStatus.DONE,
            stem_feature_cache_id=w.entry.id,
            output_object_key=job_output_key(USER_B, own.id),
        )


def _b_updates_as_progress(repos: Repositories, w: World) -> None:
    assert not repos.jobs.update_progress(
        user_id=USER_B, job_id=w.job.id, progress=Progress(chunks_done=1, chunks_total=1)
    )


def _b_begins_chunks_on_as_job(repos: Repositories, w: World) -> None:
    begin = {
        "chunks_total": 3,
        "embedding_fingerprint": "0123456789abcdef",
        "started_at": T0,
        "feature_cache_hit": False,
        "prepare_stage_ms": {},
    }
    b_entry = repos.feature_cache.add(_entry(USER_B, w.entry.input_hash))
    stolen = repos.jobs.begin_chunks(
        user_id=USER_B,
        job_id=w.job.id,
        input_hash=b_entry.input_hash,
        stem_feature_cache_id=b_entry.id,
        **begin,
    )
    assert stolen is None
    own = repos.jobs.add(_job(w.b_profile, status=JobStatus.RUNNING))
    with pytest.raises(NotFoundError, match=f"no feature-cache entry {w.entry.id}"):
        repos.jobs.begin_chunks(
            user_id=USER_B,
            job_id=own.id,
            input_hash=w.entry.input_hash,
            stem_feature_cache_id=w.entry.id,
            **begin,
        )


def _b_records_a_chunk_of_as_job(repos: Repositories, w: World) -> None:
    recorded = repos.jobs.record_chunk(
        user_id=USER_B,
        job_id=w.job.id,
        chunk_index=0,
        generated=True,
        embedding_fingerprint="0123456789abcdef",
    )
    assert recorded is None


def _b_reads_as_ledger(repos: Repositories, w: World) -> None:
    assert repos.jobs.ledger(user_id=USER_B, job_id=w.job.id) is None


def _the_sweep_claims_no_job_that_is_moving(repos: Repositories, w: World) -> None:
    """The one method that is not scoped by user: the worker's recovery of lost jobs. A's
    job changed moments ago, so it is not claimed and its row is left alone."""
    assert (
        repos.jobs.claim_stalled(unchanged_since=datetime.now(UTC) - timedelta(hours=1), limit=10)
        == []
    )


def _the_operators_count_names_no_row_and_changes_none(repos: Repositories, w: World) -> None:
    """Not scoped by user: the jobs-by-status gauge. It returns one number per status."""
    counts = repos.jobs.count_by_status()
    assert counts == dict.fromkeys(JobStatus, 0) | {JobStatus.RUNNING: 1}


def _the_sweep_claims_no_build_that_is_moving(repos: Repositories, w: World) -> None:
    """Not scoped by user either: the worker's recovery of lost profile builds. A's profile
    changed moments ago, so it is not claimed."""
    since = datetime.now(UTC) - timedelta(hours=1)
    assert repos.profiles.claim_stalled(unchanged_since=since, limit=10) == []


def _b_finds_as_entry(repos: Repositories, w: World) -> None:
    found = repos.feature_cache.find(
        user_id=USER_B, input_hash=w.entry.input_hash, feature_version=w.entry.feature_version
    )
    assert found is None


def _b_adds_an_entry_for_the_same_input(repos: Repositories, w: World) -> None:
    own = repos.feature_cache.add(_entry(USER_B, w.entry.input_hash))
    assert own.user_id == USER_B and own.id != w.entry.id


def _b_touches_as_entry(repos: Repositories, w: World) -> None:
    forged = attrs.evolve(w.entry, user_id=USER_B)
    repos.feature_cache.touch(forged, accessed_at=T0 + timedelta(days=9))


def _the_eviction_spares_an_entry_in_use(repos: Repositories, w: World) -> None:
    """Not scoped by user either: the retention sweep. A's entry has been idle since T0, but
    A's job is running and has not recorded its entry yet, so A's entry stays."""
    evicted = repos.feature_cache_eviction.evict_idle(
        now=datetime.now(UTC), max_idle_s=1.0, limit=10, delete_blob=_no_blob_to_delete
    )
    assert evicted == []


def _no_blob_to_delete(key: str) -> None:
    raise AssertionError(f"the eviction deleted the blob {key}")


_A_YEAR_ON = {"policy": RetentionPolicy(), "limit": 10}


def _the_retention_sweep_keeps_the_chunks_of_as_running_job(repos: Repositories, w: World) -> None:
    """Not scoped by user either: the retention sweep. A's job is running, so even a year on
    its chunks stay."""
    expired = repos.retention_sweep.expire_chunks(
        now=datetime.now(UTC) + timedelta(days=365), **_A_YEAR_ON, delete_chunks=_no_chunks
    )
    assert expired == []


def _the_retention_sweep_has_no_output_of_a_to_expire(repos: Repositories, w: World) -> None:
    expired = repos.retention_sweep.expire_outputs(
        now=datetime.now(UTC) + timedelta(days=365), **_A_YEAR_ON, delete_object=_no_object
    )
    assert expired == []


def _the_retention_sweep_keeps_the_input_of_as_running_job(repos: Repositories, w: World) -> None:
    expired = repos.retention_sweep.expire_inputs(
        now=datetime.now(UTC) + timedelta(days=365), **_A_YEAR_ON, delete_object=_no_object
    )
    assert expired == []


def _no_chunks(job: RenderJob) -> None:
    raise AssertionError(f"the retention sweep deleted the chunks of {job.id}")


def _no_object(key: str) -> None:
    raise AssertionError(f"the retention sweep deleted {key}")


A_KEY = "a-s-key"


def _b_claims_as_key(repos: Repositories, w: World) -> None:
    claim = {"user_id": USER_B, "key": A_KEY, "fingerprint": "b's request"}
    assert repos.idempotency_keys.claim(**claim, now=datetime.now(UTC)) == Claimed()


def _b_answers_as_key(repos: Repositories, w: World) -> None:
    answer = StoredAnswer(status_code=500, body=b"b's")
    repos.idempotency_keys.answer(user_id=USER_B, key=A_KEY, answer=answer)


def _b_releases_as_key(repos: Repositories, w: World) -> None:
    repos.idempotency_keys.release(user_id=USER_B, key=A_KEY)


def _the_sweep_expires_no_key_in_retention(repos: Repositories, w: World) -> None:
    """Not scoped by user: the sweep of keys past their retention. A's is new, so it stays."""
    yesterday = datetime.now(UTC) - timedelta(hours=23)
    assert repos.idempotency_keys.expire(created_before=yesterday, limit=10) == 0


def _b_records_a_webhook_attempt_on_as_job(repos: Repositories, w: World) -> None:
    attempt = WebhookAttempt(WebhookEvent.COMPLETED, "msg_b", 1, T0, 500, 1.0, "b's")
    assert not repos.jobs.record_webhook_attempt(user_id=USER_B, job_id=w.job.id, attempt=attempt)


def _b_claims_a_progress_notice_of_as_job(repos: Repositories, w: World) -> None:
    claim = {"user_id": USER_B, "job_id": w.job.id, "now": datetime.now(UTC), "interval_s": 1.0}
    assert not repos.jobs.claim_progress_notice(**claim)


def _b_gets_a_secret_of_his_own(repos: Repositories, w: World) -> None:
    b_secret = repos.webhook_secrets.secret_for(user_id=USER_B)
    assert b_secret != repos.webhook_secrets.secret_for(user_id=USER_A)


def _as_key(repos: Repositories) -> ApiKey:
    (row,) = repos.api_keys.list_for_user(user_id=USER_A)
    return row


def _b_adds_a_key_with_as_id_or_digest(repos: Repositories, w: World) -> None:
    a_key = _as_key(repos)
    b_key = new_api_key(user_id=USER_B, name="b's").row
    for taken in ({"id": a_key.id}, {"digest": a_key.digest}):
        with pytest.raises(ConflictError):
            repos.api_keys.add(attrs.evolve(b_key, **taken))


def _b_lists_no_key_of_as(repos: Repositories, w: World) -> None:
    repos.api_keys.add(new_api_key(user_id=USER_B, name="b's").row)
    assert [row.user_id for row in repos.api_keys.list_for_user(user_id=USER_B)] == [USER_B]


def _b_finds_his_own_key_by_its_digest(repos: Repositories, w: World) -> None:
    b_key = repos.api_keys.add(new_api_key(user_id=USER_B, name="b's").row)
    assert repos.api_keys.find_by_digest(b_key.digest) == b_key


def _revoking_bs_key_leaves_as(repos: Repositories, w: World) -> None:
    b_key = repos.api_keys.add(new_api_key(user_id=USER_B, name="b's").row)
    revoked = repos.api_keys.revoke(key_id=b_key.id, now=T0)
    assert (revoked.user_id, revoked.revoked_at) == (USER_B, T0)


def _using_bs_key_leaves_as(repos: Repositories, w: World) -> None:
    b_key = repos.api_keys.add(new_api_key(user_id=USER_B, name="b's").row)
    repos.api_keys.touch(key_id=b_key.id, now=T0, resolution_s=60.0)
    assert repos.api_keys.find_by_digest(b_key.digest).last_used_at == T0


CROSS_USER_ATTEMPTS: dict[tuple[str, str], Callable[[Repositories, World], None]] = {
    ("profiles", "add"): _b_adds_a_profile_with_as_id,
    ("profiles", "get"): _b_gets_as_profile,
    ("profiles", "set_status"): _b_sets_as_profile_status,
    ("profiles", "record_build"): _b_records_a_build_on_as_profile,
    ("profiles", "record_build_failure"): _b_records_a_build_failure_on_as_profile,
    ("profiles", "claim_stalled"): _the_sweep_claims_no_build_that_is_moving,
    ("profiles", "list_page"): _b_pages_through_as_profiles,
    ("profiles", "forget_build"): _b_forgets_as_build,
    ("profiles", "delete"): _b_deletes_as_profile,
    ("references", "add"): _b_adds_a_reference_to_as_profile,
    ("references", "get"): _b_gets_as_reference,
    ("references", "list_for_profile"): _b_lists_as_references,
    ("references", "list_page"): _b_pages_through_as_references,
    ("references", "delete"): _b_deletes_as_reference,
    ("references", "record_quality"): _b_records_quality_on_as_reference,
    ("exemplars", "list_for_profile"): _b_lists_as_exemplars,
    ("jobs", "add"): _b_adds_a_job_on_as_rows,
    ("jobs", "get"): _b_gets_as_job,
    ("jobs", "list_page"): _b_pages_through_as_jobs,
    ("jobs", "delete"): _b_deletes_as_job,
    ("jobs", "record_webhook_attempt"): _b_records_a_webhook_attempt_on_as_job,
    ("jobs", "claim_progress_notice"): _b_claims_a_progress_notice_of_as_job,
    ("jobs", "transition"): _b_moves_as_job,
    ("jobs", "update_progress"): _b_updates_as_progress,
    ("jobs", "begin_chunks"): _b_begins_chunks_on_as_job,
    ("jobs", "record_chunk"): _b_records_a_chunk_of_as_job,
    ("jobs", "ledger"): _b_reads_as_ledger,
    ("jobs", "claim_stalled"): _the_sweep_claims_no_job_that_is_moving,
    ("jobs", "count_by_status"): _the_operators_count_names_no_row_and_changes_none,
    ("feature_cache", "find"): _b_finds_as_entry,
    ("feature_cache", "add"): _b_adds_an_entry_for_the_same_input,
    ("feature_cache", "touch"): _b_touches_as_entry,
    ("feature_cache_eviction", "evict_idle"): _the_eviction_spares_an_entry_in_use,
    ("retention_sweep", "expire_chunks"): _the_retention_sweep_keeps_the_chunks_of_as_running_job,
    ("retention_sweep", "expire_outputs"): _the_retention_sweep_has_no_output_of_a_to_expire,
    ("retention_sweep", "expire_inputs"): _the_retention_sweep_keeps_the_input_of_as_running_job,
    ("idempotency_keys", "claim"): _b_claims_as_key,
    ("idempotency_keys", "answer"): _b_answers_as_key,
    ("idempotency_keys", "release"): _b_releases_as_key,
    ("idempotency_keys", "expire"): _the_sweep_expires_no_key_in_retention,
    ("webhook_secrets", "secret_for"): _b_gets_a_secret_of_his_own,
    ("api_keys", "add"): _b_adds_a_key_with_as_id_or_digest,
    ("api_keys", "list_for_user"): _b_lists_no_key_of_as,
    ("api_keys", "find_by_digest"): _b_finds_his_own_key_by_its_digest,
    ("api_keys", "revoke"): _revoking_bs_key_leaves_as,
    ("api_keys", "touch"): _using_bs_key_leaves_as,
}


def _public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if name[0] != "_"}


def test_every_repository_method_has_a_cross_user_attempt(repos):
    for name, port in PORTS.items():
        adapter_methods = _public_methods(type(getattr(repos, name)))
        assert adapter_methods == _public_methods(port)
        assert {method for repo, method in CROSS_USER_ATTEMPTS if repo == name} == adapter_methods


def _rows_of_user_a(engine: sa.Engine) -> dict[str, list[tuple]]:
    exemplars_of_a = sa.select(tables.singer_exemplars).join(tables.singer_profiles)
    queries = {
        table.name: sa.select(table).where(table.c.user_id == USER_A)
        for table in tables.metadata.sorted_tables
        if "user_id" in table.c
    }
    queries["singer_exemplars"] = exemplars_of_a.where(tables.singer_profiles.c.user_id == USER_A)
    with engine.connect() as connection:
        return {
            name: sorted(tuple(row) for row in connection.execute(query))
            for name, query in queries.items()
        }


@pytest.mark.parametrize(
    "attempt", CROSS_USER_ATTEMPTS.values(), ids=[".".join(key) for key in CROSS_USER_ATTEMPTS]
)
def test_user_b_cannot_read_or_change_user_as_rows(repos, world, pg_engine, attempt):
    before = _rows_of_user_a(pg_engine)
    assert all(before.values())  # A has a row in every table
    attempt(repos, world)
    assert _rows_of_user_a(pg_engine) == before


def test_concurrent_adds_never_pass_the_active_job_limit(pg_engine):
    """Twelve adds of one user at once, against a limit of 3 in flight: exactly 3 are taken,
    the rest refused with when to retry; a finished job does not count, nor another user's."""
    limit = 3
    jobs = PostgresRenderJobRepository(pg_engine, max_active_jobs_per_user=limit)
    profiles = PostgresSingerProfileRepository(pg_engine)
    profile = profiles.add(_profile(USER_A))
    jobs.add(_job(profile, status=JobStatus.DONE))
    start = threading.Barrier(12)

    def add() -> str:
        start.wait()
        try:
            jobs.add(_job(profile))
        except TooManyActiveJobsError as error:
            assert error.retry_after_s > 0
            return "refused"
        return "added"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = Counter(pool.map(lambda _: add(), range(12)))

    assert outcomes == {"added": limit, "refused": 12 - limit}
    b_profile = profiles.add(_profile(USER_B))
    jobs.add(_job(b_profile))  # B's own count
