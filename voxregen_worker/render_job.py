"""The ``render_job`` actor's work: one render job, from its id to ``done`` or ``failed``.

Idempotent and resumable:

- A job already ``done`` or ``failed`` is left alone (a redelivered message does nothing).
- A ``queued`` job is moved to ``running`` by compare-and-set, so of two messages racing for
  it one starts it; the other finds it ``running``.
- A job found ``running`` is resumed. Dramatiq hands a message to one worker at a time and
  redelivers it only when that worker died (its heartbeat stopped) or when it raised and is
  retried, so finding one's own job ``running`` means the previous attempt is gone. The
  pipeline then reuses every chunk stored with this job's provenance and regenerates only
  the rest (``metrics.chunks_reused``). Should two messages of one job ever run at once,
  both write the same deterministic chunks and only one ``running → done`` move wins.
- Invalid input (a stem that cannot be rendered, a missing input object, a profile that is
  not ready) fails the job at once with the error's code. Transient failures (database,
  storage or queue unreachable) propagate so that Dramatiq retries the message with backoff;
  when it gives up, :func:`abandon_render_job` fails the job, so no job stays ``running``.
"""

import time
import uuid

import structlog

from voxregen_adapters.service import Service
from voxregen_core.errors import InvalidInputError, ObjectNotFoundError
from voxregen_core.jobs import JobStatus, RenderJob
from voxregen_core.keys import job_output_key
from voxregen_core.pipeline import RenderPorts, render
from voxregen_core.ports import Generator
from voxregen_core.profiles import ProfileStatus
from voxregen_core.stub_generator import StubGenerator
from voxregen_worker.elapsed import ms_since
from voxregen_worker.error_codes import error_code
from voxregen_worker.progress import RepositoryProgressReporter

PROFILE_NOT_READY = "profile_not_ready"


def render_job(
    service: Service,
    user_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    generator: Generator | None = None,
) -> None:
    """Render the user's job ``job_id`` (see the module docstring); raises only transient
    errors (for a retry) and unexpected ones."""
    with structlog.contextvars.bound_contextvars(job_id=str(job_id), user_id=str(user_id)):
        _render_job(service, user_id, job_id, generator or StubGenerator())


def _render_job(
    service: Service, user_id: uuid.UUID, job_id: uuid.UUID, generator: Generator
) -> None:
    log = structlog.get_logger()
    started = time.perf_counter()
    job = service.jobs.get(user_id=user_id, job_id=job_id)
    if job is None:
        log.warning("render_job_missing")
        return
    if job.status in (JobStatus.DONE, JobStatus.FAILED):
        log.info("render_job_already_finished", status=job.status.value)
        return

    profile = service.profiles.get(user_id=user_id, profile_id=job.singer_profile_id)
    if profile is None or profile.status is not ProfileStatus.READY:
        status = "missing" if profile is None else profile.status.value
        _fail(
            service, job, PROFILE_NOT_READY, f"singer profile {job.singer_profile_id} is {status}"
        )
        return

    resumed = not _start(service, job)
    if resumed and not _still_running(service, job):
        return
    log.info("render_job_started", stage="start", resumed=resumed)

    ports = RenderPorts(
        store=service.store,
        feature_cache=service.feature_cache,
        generator=generator,
        progress=RepositoryProgressReporter(service.jobs, user_id=user_id, job_id=job_id),
        clock=service.clock,
    )
    try:
        outcome = render(
            job,
            read_input=lambda: service.store.get(job.input_object_key),
            profile=profile,
            ports=ports,
        )
    except (InvalidInputError, ObjectNotFoundError) as error:
        _fail(service, job, error.code, error.message)
        return
    for stage, elapsed_ms in outcome.metrics.stage_ms.items():
        log.info("render_stage", stage=stage, elapsed_ms=elapsed_ms)

    upload_started = time.perf_counter()
    output_key = job_output_key(user_id, job_id)
    service.store.put(output_key, outcome.output_wav)
    log.info("render_stage", stage="upload", elapsed_ms=ms_since(upload_started))

    metrics = outcome.metrics.to_json()
    finished = service.jobs.transition(
        user_id=user_id,
        job_id=job_id,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.DONE,
        input_hash=outcome.input_hash,
        stem_feature_cache_id=outcome.feature_cache_entry.id,
        output_object_key=output_key,
        metrics=metrics,
    )
    log.info(
        "render_job_done" if finished else "render_job_finished_elsewhere",
        stage="done",
        elapsed_ms=ms_since(started),
        chunks_total=metrics["chunks_total"],
        chunks_reused=metrics["chunks_reused"],
        feature_cache_hit=metrics["feature_cache_hit"],
        rtf_estimate=metrics["rtf_estimate"],
        loudness_lufs=metrics["loudness_lufs"],
        true_peak_db=metrics["true_peak_db"],
    )


def abandon_render_job(
    service: Service, user_id: uuid.UUID, job_id: uuid.UUID, error: BaseException
) -> None:
    """Fail the job after Dramatiq gave up on its message (retries exhausted, a non-transient
    error, or the time limit), with the last error's code."""
    with structlog.contextvars.bound_contextvars(job_id=str(job_id), user_id=str(user_id)):
        job = service.jobs.get(user_id=user_id, job_id=job_id)
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
            return
        _fail(service, job, error_code(error), f"gave up: {type(error).__name__}: {error}")


def _start(service: Service, job: RenderJob) -> bool:
    """Move a queued job to running; False if it was not queued (then it is resumed)."""
    return job.status is JobStatus.QUEUED and service.jobs.transition(
        user_id=job.user_id,
        job_id=job.id,
        from_status=JobStatus.QUEUED,
        to_status=JobStatus.RUNNING,
    )


def _still_running(service: Service, job: RenderJob) -> bool:
    current = service.jobs.get(user_id=job.user_id, job_id=job.id)
    if current is None or current.status is not JobStatus.RUNNING:
        structlog.get_logger().info(
            "render_job_already_finished", status=None if current is None else current.status.value
        )
        return False
    return True


def _fail(service: Service, job: RenderJob, code: str, message: str) -> None:
    """Move the job to failed from wherever it is (queued or running)."""
    for from_status in (JobStatus.RUNNING, JobStatus.QUEUED):
        if service.jobs.transition(
            user_id=job.user_id,
            job_id=job.id,
            from_status=from_status,
            to_status=JobStatus.FAILED,
            error_code=code,
            error_message=message,
        ):
            structlog.get_logger().warning("render_job_failed", error_code=code, error=message)
            return
