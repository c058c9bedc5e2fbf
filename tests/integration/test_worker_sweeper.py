"""The sweeper over real PostgreSQL: a job whose messages were lost is queued again, one past
its deadline fails with ``render_timed_out``, a profile build whose message was lost is queued
again (one with no reference is not: it has nothing to build), and rows that are moving are
left alone."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import attrs
import pytest

from tests.fakes import InMemoryJobQueue
from tests.integration.worker_world import (
    add_job,
    add_profile,
    add_reference,
    backdate_job,
    backdate_profile,
    job_error,
    make_service,
    reference_wav,
    render_to_end,
)
from voxregen_adapters.actor_names import ALL, PROFILE_BUILD, RENDER_JOB
from voxregen_adapters.service import Service
from voxregen_core.jobs import JobStatus
from voxregen_core.profiles import ProfileStatus
from voxregen_worker.profile_build import profile_build
from voxregen_worker.sweeper import Sweeper, SweepOutcome

USER = uuid.UUID("dddddddd-dddd-4ddd-8ddd-dddddddddddd")


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield attrs.evolve(service, queue=InMemoryJobQueue(actor_names=ALL))
    service.close()


def test_a_lost_job_is_queued_again_and_then_completes(service):
    profile = add_profile(service, USER)
    lost = add_job(service, profile)
    moving = add_job(service, profile)
    backdate_job(
        service.engine,
        lost.id,
        updated_ago=timedelta(minutes=10),
        created_ago=timedelta(minutes=10),
    )
    sweeper = Sweeper(service, stall_timeout_s=300.0, job_deadline_s=3600.0)

    assert sweeper.sweep() == SweepOutcome(jobs_requeued=1)
    assert sweeper.sweep() == SweepOutcome()  # claimed: not queued twice in one stall period

    assert service.queue.messages == [(RENDER_JOB, (str(USER), str(lost.id)))]
    render_to_end(service, USER, lost.id)
    assert service.jobs.get(user_id=USER, job_id=lost.id).status is JobStatus.DONE
    assert service.jobs.get(user_id=USER, job_id=moving.id).status is JobStatus.QUEUED


def test_a_job_past_its_deadline_fails_with_a_clear_error(service):
    job = add_job(service, add_profile(service, USER))
    service.jobs.transition(
        user_id=USER, job_id=job.id, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
    )
    backdate_job(
        service.engine, job.id, updated_ago=timedelta(minutes=10), created_ago=timedelta(hours=3)
    )
    sweeper = Sweeper(service, stall_timeout_s=300.0, job_deadline_s=7200.0)

    assert sweeper.sweep() == SweepOutcome(jobs_failed=1)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.FAILED
    code, message = job_error(service, job)
    assert code == "render_timed_out"
    assert message.startswith("the job was not done 7200 s after it was created")
    assert service.queue.messages == []


def test_a_lost_profile_build_is_queued_again(service):
    lost = add_profile(service, USER, status=ProfileStatus.BUILDING)
    add_reference(service, lost, reference_wav())
    moving = add_profile(service, USER, status=ProfileStatus.BUILDING)  # changed just now
    add_reference(service, moving, reference_wav())
    add_profile(service, USER)  # ready: nothing to do
    backdate_profile(service.engine, lost.id, updated_ago=timedelta(minutes=10))
    sweeper = Sweeper(service, stall_timeout_s=300.0, job_deadline_s=3600.0)

    assert sweeper.sweep() == SweepOutcome(profiles_requeued=1)
    assert sweeper.sweep() == SweepOutcome()

    assert service.queue.messages == [(PROFILE_BUILD, (str(USER), str(lost.id)))]


def test_a_new_profile_without_references_is_left_waiting_for_its_first(service):
    """It has nothing to build: once the stall timeout passes the sweeper must not queue a
    build (which used to end the profile in ``error``, "needs at least one reference")."""
    waiting = add_profile(service, USER, status=ProfileStatus.BUILDING)
    backdate_profile(service.engine, waiting.id, updated_ago=timedelta(hours=1))
    sweeper = Sweeper(service, stall_timeout_s=300.0, job_deadline_s=3600.0)

    assert sweeper.sweep() == SweepOutcome()

    assert service.queue.messages == []
    assert service.profiles.get(user_id=USER, profile_id=waiting.id).status is (
        ProfileStatus.BUILDING
    )
    add_reference(service, waiting, reference_wav())  # its first reference, then a lost message
    backdate_profile(service.engine, waiting.id, updated_ago=timedelta(hours=1))
    assert sweeper.sweep() == SweepOutcome(profiles_requeued=1)
    profile_build(service, USER, waiting.id)
    assert service.profiles.get(user_id=USER, profile_id=waiting.id).status is ProfileStatus.READY
