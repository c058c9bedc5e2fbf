"""The retention policy of jobs' objects: which chunks, outputs and inputs go when, and that
nothing a queued or running job may read ever does."""

import uuid
from datetime import UTC, datetime, timedelta

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given

from voxregen_core.jobs import IN_FLIGHT, JobStatus, RenderJob
from voxregen_core.keys import job_input_key, job_output_key
from voxregen_core.retention import (
    CHUNKS_S,
    INPUTS_S,
    OUTPUTS_S,
    RetentionPolicy,
    chunks_expire,
    input_expires,
    output_expires,
)

USER = uuid.UUID("11111111-1111-4111-8111-111111111111")
OTHER = uuid.UUID("22222222-2222-4222-8222-222222222222")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = RetentionPolicy()
HASH = "ab" * 32


def _job(
    status: JobStatus = JobStatus.DONE,
    *,
    user_id: uuid.UUID = USER,
    created_at: datetime = T0,
    input_object_key: str | None = None,
    **fields,
) -> RenderJob:
    job_id = uuid.uuid4()
    done = status is JobStatus.DONE
    return RenderJob(
        id=job_id,
        user_id=user_id,
        singer_profile_id=uuid.uuid4(),
        input_object_key=input_object_key or job_input_key(user_id, job_id),
        status=status,
        output_object_key=job_output_key(user_id, job_id) if done else None,
        created_at=created_at,
        **fields,
    )


def _after(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_default_policy_is_48_hours_30_days_60_days():
    assert (POLICY.chunks_s, POLICY.inputs_s, POLICY.outputs_s) == (
        CHUNKS_S,
        INPUTS_S,
        OUTPUTS_S,
    )
    assert (CHUNKS_S, INPUTS_S, OUTPUTS_S) == (172_800.0, 2_592_000.0, 5_184_000.0)


@pytest.mark.parametrize("field", ["chunks_s", "inputs_s", "outputs_s"])
@pytest.mark.parametrize("value", [0, -1.0])
def test_a_retention_must_be_a_positive_number_of_seconds(field, value):
    with pytest.raises(ValueError, match=rf"'{field}' must be > 0: {value}"):
        RetentionPolicy(**{field: value})


def test_a_retention_must_be_a_number():
    with pytest.raises(TypeError, match="'inputs_s' must be"):
        RetentionPolicy(inputs_s="30d")


@pytest.mark.parametrize("status", [JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELED])
def test_a_finished_jobs_chunks_go_once_it_is_older_than_the_chunk_retention(status):
    job = _job(status)
    assert not chunks_expire(job, now=_after(CHUNKS_S), policy=POLICY)  # exactly 48 h: kept
    assert chunks_expire(job, now=_after(CHUNKS_S + 1), policy=POLICY)


@pytest.mark.parametrize("status", IN_FLIGHT)
def test_a_job_in_flight_keeps_its_chunks_however_old(status):
    assert not chunks_expire(_job(status), now=_after(365 * 86_400.0), policy=POLICY)


def test_chunks_swept_once_are_not_chosen_again():
    job = _job(chunks_expired_at=_after(CHUNKS_S + 1))
    assert not chunks_expire(job, now=_after(10 * CHUNKS_S), policy=POLICY)


def test_a_done_jobs_output_goes_once_it_is_older_than_the_output_retention():
    job = _job()
    assert not output_expires(job, now=_after(OUTPUTS_S), policy=POLICY)
    assert output_expires(job, now=_after(OUTPUTS_S + 1), policy=POLICY)
    swept = attrs.evolve(job, output_expired_at=_after(OUTPUTS_S + 1))
    assert not output_expires(swept, now=_after(2 * OUTPUTS_S), policy=POLICY)


@pytest.mark.parametrize("status", [s for s in JobStatus if s is not JobStatus.DONE])
def test_only_a_done_job_has_an_output_to_expire(status):
    assert not output_expires(_job(status), now=_after(2 * OUTPUTS_S), policy=POLICY)


def test_an_unstored_job_has_no_age_and_keeps_everything():
    job = attrs.evolve(_job(), created_at=None)
    now = _after(10 * OUTPUTS_S)
    assert not chunks_expire(job, now=now, policy=POLICY)
    assert not output_expires(job, now=now, policy=POLICY)
    assert not input_expires(job.input_object_key, [job], now=now, policy=POLICY)


def test_an_input_goes_once_its_oldest_job_is_older_than_the_input_retention():
    original = _job()
    key = original.input_object_key
    assert not input_expires(key, [original], now=_after(INPUTS_S), policy=POLICY)
    assert input_expires(key, [original], now=_after(INPUTS_S + 1), policy=POLICY)


def test_a_clone_does_not_extend_its_originals_input():
    original = _job()
    clone = _job(input_object_key=original.input_object_key, created_at=_after(INPUTS_S - 60))
    key = original.input_object_key
    assert input_expires(key, [original, clone], now=_after(INPUTS_S + 1), policy=POLICY)
    # the original deleted: the clone is then the oldest job on it
    assert not input_expires(key, [clone], now=_after(INPUTS_S + 1), policy=POLICY)


@pytest.mark.parametrize("status", IN_FLIGHT)
def test_a_job_in_flight_on_the_input_keeps_it(status):
    original = _job()
    clone = _job(status, input_object_key=original.input_object_key, created_at=_after(INPUTS_S))
    key = original.input_object_key
    assert not input_expires(key, [original, clone], now=_after(2 * INPUTS_S), policy=POLICY)


@pytest.mark.parametrize("status", IN_FLIGHT)
def test_a_job_in_flight_on_the_same_audio_of_the_same_user_keeps_the_input(status):
    """Another upload with the same input hash, rendering now, keeps this one too."""
    old = _job(input_hash=HASH)
    same_audio = _job(status, input_hash=HASH, created_at=_after(INPUTS_S))
    key = old.input_object_key
    assert not input_expires(key, [old, same_audio], now=_after(2 * INPUTS_S), policy=POLICY)


def test_another_users_job_on_the_same_audio_does_not_keep_the_input():
    old = _job(input_hash=HASH)
    theirs = _job(JobStatus.RUNNING, user_id=OTHER, input_hash=HASH)
    unhashed = _job(JobStatus.QUEUED)  # the user's, on another input, not hashed yet
    key = old.input_object_key
    assert input_expires(key, [old, theirs, unhashed], now=_after(INPUTS_S + 1), policy=POLICY)


def test_an_input_swept_once_or_rendered_by_no_job_is_not_chosen():
    swept = _job(input_expired_at=_after(INPUTS_S + 1))
    now = _after(2 * INPUTS_S)
    assert not input_expires(swept.input_object_key, [swept], now=now, policy=POLICY)
    assert not input_expires(job_input_key(USER, uuid.uuid4()), [swept], now=now, policy=POLICY)


statuses = st.sampled_from(list(JobStatus))
ages_s = st.floats(min_value=0.0, max_value=3 * OUTPUTS_S)


@st.composite
def users_jobs(draw) -> list[RenderJob]:
    """Jobs of two users over three input keys (two jobs may share one: a clone) and two
    hashes, of any status and age."""
    keys = [job_input_key(user, uuid.uuid4()) for user in (USER, USER, OTHER)]
    jobs = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(keys))
        user = USER if key != keys[2] else OTHER
        jobs.append(
            _job(
                draw(statuses),
                user_id=user,
                input_object_key=key,
                input_hash=draw(st.sampled_from([None, HASH, "cd" * 32])),
                created_at=T0 - timedelta(seconds=draw(ages_s)),
            )
        )
    return jobs


@given(jobs=users_jobs(), later_s=st.floats(0.0, OUTPUTS_S))
def test_no_input_a_job_in_flight_may_read_ever_goes_and_a_kept_one_goes_later(jobs, later_s):
    for key in {job.input_object_key for job in jobs}:
        on_key = [job for job in jobs if job.input_object_key == key]
        hashes = {job.input_hash for job in on_key} - {None}
        readers = [
            job
            for job in jobs
            if job.user_id == on_key[0].user_id
            and (job.input_object_key == key or job.input_hash in hashes)
        ]
        expires = input_expires(key, jobs, now=T0, policy=POLICY)
        if any(job.status in IN_FLIGHT for job in readers):
            assert not expires
        if expires:  # the decision holds as time goes on
            assert input_expires(key, jobs, now=T0 + timedelta(seconds=later_s), policy=POLICY)
            oldest = min(job.created_at for job in on_key)
            assert (T0 - oldest).total_seconds() > POLICY.inputs_s
