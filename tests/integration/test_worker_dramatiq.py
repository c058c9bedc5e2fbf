"""The worker as Dramatiq runs it: real Worker threads consuming real Redis messages sent the
way the API sends them, over real PostgreSQL and an S3 server (moto) or a local store.

Each test uses its own broker namespace, so tests run in any order and leave no shared keys.
"""

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import attrs
import dramatiq
import pytest
import structlog
from dramatiq.brokers.redis import RedisBroker

from tests.fakes import NaNGenerator
from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY
from tests.integration.worker_world import (
    add_job,
    add_profile,
    add_reference,
    job_error,
    make_service,
    reference_wav,
)
from voxregen.composition.service_parts import build_worker
from voxregen_adapters.dramatiq_job_queue import (
    QUEUE_NAMES,
    RENDER_TURN,
    DramatiqJobQueue,
    render_backlog,
)
from voxregen_adapters.minio_object_store import MinioObjectStore
from voxregen_adapters.service import Service
from voxregen_core.jobs import JobStatus, Progress
from voxregen_core.messages import RenderJobMessage
from voxregen_core.ports import Generator
from voxregen_core.profiles import ProfileStatus
from voxregen_core.retention import RetentionPolicy
from voxregen_core.stub_generator import StubGenerator
from voxregen_worker.actors import RetryPolicy, declare_actors
from voxregen_worker.main import run_worker
from voxregen_worker.render_job import Renderer
from voxregen_worker.sweeper import Sweeper, SweepOutcome

USER = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
FAST_RETRIES = RetryPolicy(max_retries=2, min_backoff_ms=10, max_backoff_ms=50)


@pytest.fixture
def s3_service(fresh_database_url, redis_url, tmp_path, s3_endpoint) -> Iterator[Service]:
    bucket = f"worker-{uuid.uuid4().hex[:12]}"
    storage_url = f"s3://{ACCESS_KEY}:{SECRET_KEY}@{s3_endpoint}/{bucket}?secure=false"
    service = make_service(fresh_database_url, redis_url, tmp_path, storage_url=storage_url)
    yield service
    service.close()


def _wait_for(condition: Callable[[], bool], *, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _run(
    broker: RedisBroker, service: Service, *, generator: Generator | None = None, **options
) -> dramatiq.Worker:
    """A worker thread consuming ``broker``, queueing the chunks it fans out on it too, with
    ``generator`` (the stub unless given)."""
    service = attrs.evolve(service, queue=DramatiqJobQueue(broker))
    declare_actors(broker, service, Renderer(service, generator or StubGenerator()), **options)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    return worker


def test_a_real_worker_builds_a_profile_then_renders_a_job_over_s3(broker, s3_service):
    profile = add_profile(s3_service, USER, status=ProfileStatus.BUILDING)
    add_reference(s3_service, profile, reference_wav())
    job = add_job(s3_service, profile)
    worker = _run(broker, s3_service)
    try:
        DramatiqJobQueue(broker).enqueue_profile_build(user_id=USER, profile_id=profile.id)
        _wait_for(
            lambda: (
                s3_service.profiles.get(user_id=USER, profile_id=profile.id).status
                is ProfileStatus.READY
            )
        )
        DramatiqJobQueue(broker).enqueue_render_job(user_id=USER, job_id=job.id)
        _wait_for(lambda: s3_service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE)
    finally:
        worker.stop()
    done = s3_service.jobs.get(user_id=USER, job_id=job.id)
    assert done.progress == Progress(chunks_done=3, chunks_total=3)
    assert s3_service.store.exists(done.output_object_key)
    assert done.metrics["chunks_total"] == 3


def test_a_storage_outage_is_retried_then_the_job_fails_with_its_code(
    broker, fresh_database_url, redis_url, tmp_path
):
    local = make_service(fresh_database_url, redis_url, tmp_path)
    job = add_job(local, add_profile(local, USER))
    local.close()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = MinioObjectStore(
        endpoint=f"127.0.0.1:{closed_port}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket="voxregen-nowhere",
        secure=False,
        timeout_s=1.0,
        retries=0,
    )
    service = make_service(fresh_database_url, redis_url, tmp_path, store=unreachable)
    worker = _run(broker, service, policy=FAST_RETRIES)
    try:
        with structlog.testing.capture_logs() as attempts:
            DramatiqJobQueue(broker).enqueue_render_job(user_id=USER, job_id=job.id)
            _wait_for(
                lambda: service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.FAILED
            )
        code, message = job_error(service, job)
    finally:
        worker.stop()
        service.close()
    starts = [line for line in attempts if line["event"] == "render_job_started"]
    assert [line["resumed"] for line in starts] == [False, True, True]  # 1 try + 2 retries
    assert code == "storage_unavailable"
    assert message.startswith("gave up after retrying: ")


def test_a_generator_returning_nan_fails_the_job_after_one_attempt_with_no_retry(
    broker, fresh_database_url, redis_url, tmp_path
):
    service = make_service(fresh_database_url, redis_url, tmp_path)
    job = add_job(service, add_profile(service, USER))
    generator = NaNGenerator()
    worker = _run(broker, service, generator=generator, policy=FAST_RETRIES)
    try:
        DramatiqJobQueue(broker).enqueue_render_job(user_id=USER, job_id=job.id)
        _wait_for(lambda: service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.FAILED)
        for queue_name in set(QUEUE_NAMES.values()):  # every message done, retries included
            broker.join(queue_name, timeout=30_000)
        code, message = job_error(service, job)
    finally:
        worker.stop()
        service.close()
    assert len(generator.calls) == 1, generator.calls  # a retry would have made 1 + 2 calls
    (chunk_index,) = generator.calls
    assert code == "generator_error"
    assert message == f"generator returned NaN or Inf in chunk {chunk_index}"


def test_run_worker_consumes_until_sigterm_then_stops(
    broker, fresh_database_url, redis_url, tmp_path
):
    service = make_service(fresh_database_url, redis_url, tmp_path)
    job = add_job(service, add_profile(service, USER))
    DramatiqJobQueue(broker).enqueue_render_job(user_id=USER, job_id=job.id)

    def stop_when_done() -> None:
        _wait_for(lambda: service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE)
        os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_when_done)
    stopper.start()
    parts = build_worker(service.settings, broker=broker)
    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        run_worker(parts.service, parts.broker, parts.generator)
        stopper.join()
        assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
        # it returns with the stop signals ignored: a second one cannot kill an exiting worker
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        stopper.join()
        service.close()
        for number, handler in previous.items():
            signal.signal(number, handler)


def test_a_unit_whose_turn_was_lost_is_rendered_after_the_sweepers_spare_turn(
    broker, fresh_database_url, redis_url, tmp_path
):
    service = make_service(fresh_database_url, redis_url, tmp_path)
    service = attrs.evolve(service, queue=DramatiqJobQueue(broker))
    job = add_job(service, add_profile(service, USER))
    # queued as the API does, but its sender died before the turn went out
    render_backlog(broker).push(RenderJobMessage(user_id=USER, job_id=job.id))
    turns = f"{broker.namespace}:{QUEUE_NAMES[RENDER_TURN]}"
    assert broker.client.llen(turns) == 0
    sweeper = Sweeper(
        service,
        stall_timeout_s=300.0,
        job_deadline_s=3600.0,
        feature_cache_max_idle_s=3600.0,
        retention=RetentionPolicy(),
    )
    assert sweeper.sweep() == SweepOutcome(render_work_waiting=1)
    assert broker.client.llen(turns) == 1
    worker = _run(broker, service)
    try:
        _wait_for(lambda: service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE)
        worker.stop()
        assert sweeper.sweep() == SweepOutcome()  # nothing waits: no spare turn
        assert broker.client.llen(turns) == 0
    finally:
        worker.stop()
        service.close()


def test_a_profile_build_waits_while_another_thread_holds_a_whole_stem(
    broker, fresh_database_url, redis_url, tmp_path
):
    """A build decodes its references whole: it takes the renderer's ``whole_audio`` lock, as a
    stem's preparation and delivery do, so it never runs beside them in one process."""
    service = attrs.evolve(
        make_service(fresh_database_url, redis_url, tmp_path), queue=DramatiqJobQueue(broker)
    )
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    add_reference(service, profile, reference_wav())
    renderer = Renderer(service, StubGenerator())
    declare_actors(broker, service, renderer)
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)

    def status() -> ProfileStatus:
        return service.profiles.get(user_id=USER, profile_id=profile.id).status

    try:
        with renderer.whole_audio:  # another thread preparing a stem, say
            worker.start()
            DramatiqJobQueue(broker).enqueue_profile_build(user_id=USER, profile_id=profile.id)
            time.sleep(3.0)  # a build of one short reference takes well under a second
            assert status() is ProfileStatus.BUILDING
        _wait_for(lambda: status() is ProfileStatus.READY)
    finally:
        worker.stop()
        service.close()
