"""Render jobs.

- ``POST /v1/render-jobs:prepare-upload`` → ``{job_id, object_key, upload_url, expires_at}``:
  reserves a job id; the input key ``users/{user_id}/jobs/{job_id}/input.wav`` carries it, and
  the job later created from that key takes it (no table of reservations is needed).
- ``POST /v1/render-jobs`` ``{singer_profile_id, input_object_key, params}`` → 201, the job
  ``queued`` and a ``render_job`` message on the queue. Needs the caller's profile usable for a
  render (``ready``, or ``building`` over an embedding already built: a rebuild; 409 for a
  profile never built or in ``error``) and the uploaded input (404 if missing, 422 if too
  large).
- ``GET /v1/render-jobs/{job_id}`` → status, ``progress {chunks_done, chunks_total}``,
  ``metrics`` and, for a failed job, ``error {code, message}``.
- ``POST /v1/render-jobs/{job_id}:download`` → ``{download_url, expires_at}`` once ``done``
  (409 before).
- ``POST /v1/render-jobs/{job_id}:clone`` ``{params}`` → 201, a new job on the same input and
  cached features, its params the original's with ``params`` applied over them.

If the queue cannot take the message, the new job is failed at once with the queue's error (it
would otherwise stay ``queued`` forever) and the request answers 503.
"""

import uuid
from typing import Any

from voxregen_adapters.service import Service
from voxregen_core.errors import (
    ConflictError,
    InvalidKeyError,
    InvalidParamsError,
    NotFoundError,
    NotReadyError,
    QueueUnavailableError,
)
from voxregen_core.jobs import JobStatus, RenderJob
from voxregen_core.keys import job_input_key
from voxregen_http.bodies import NewRenderJob, RenderJobClone
from voxregen_http.endpoint import v1_route
from voxregen_http.errors import InvalidBodyError, Problem
from voxregen_http.representations import job_json
from voxregen_http.routes.profiles import owned_profile
from voxregen_http.uploads import (
    DOWNLOAD_URL_EXPIRES_S,
    UPLOAD_URL_EXPIRES_S,
    check_upload,
    expires_at,
    reserved_job_id,
)


def owned_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> RenderJob:
    """The caller's job; raises :class:`NotFoundError` for a missing or another user's."""
    job = service.jobs.get(user_id=user_id, job_id=job_id)
    if job is None:
        raise NotFoundError(f"no render job {job_id}")
    return job


def prepare_input_upload(service: Service, user_id: uuid.UUID) -> dict[str, Any]:
    job_id = uuid.uuid4()
    key = job_input_key(user_id, job_id)
    return {
        "job_id": str(job_id),
        "object_key": key,
        "upload_url": service.store.presigned_put_url(key, expires_s=UPLOAD_URL_EXPIRES_S),
        "expires_at": expires_at(service.clock.now(), UPLOAD_URL_EXPIRES_S),
    }


def create_job(service: Service, user_id: uuid.UUID, body: NewRenderJob) -> dict[str, Any]:
    try:
        job_id = reserved_job_id(body.input_object_key, user_id=user_id)
    except InvalidKeyError as error:
        raise InvalidBodyError([Problem("$.input_object_key", str(error))]) from None
    _require_usable_profile(service, user_id, body.singer_profile_id)
    if service.jobs.get(user_id=user_id, job_id=job_id) is not None:
        raise ConflictError(
            f"render job {job_id} already exists for this input; clone it to render again"
        )
    check_upload(service.store, body.input_object_key)
    job = RenderJob(
        id=job_id,
        user_id=user_id,
        singer_profile_id=body.singer_profile_id,
        input_object_key=body.input_object_key,
        params=body.params,
    )
    return job_json(_queued(service, job))


def get_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    return job_json(owned_job(service, user_id, job_id))


def download_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    job = owned_job(service, user_id, job_id)
    if job.status is not JobStatus.DONE or job.output_object_key is None:
        raise NotReadyError(
            f"render job {job_id} is {job.status.value}; its output can be downloaded once done"
        )
    return {
        "download_url": service.store.presigned_get_url(
            job.output_object_key, expires_s=DOWNLOAD_URL_EXPIRES_S
        ),
        "expires_at": expires_at(service.clock.now(), DOWNLOAD_URL_EXPIRES_S),
    }


def clone_job(
    service: Service, user_id: uuid.UUID, body: RenderJobClone, job_id: uuid.UUID
) -> dict[str, Any]:
    original = owned_job(service, user_id, job_id)
    try:
        params = original.params.with_overrides(body.params)
    except InvalidParamsError as error:
        raise InvalidBodyError([Problem("$.params", str(error))]) from None
    _require_usable_profile(service, user_id, original.singer_profile_id)
    check_upload(service.store, original.input_object_key)
    clone = RenderJob(
        id=uuid.uuid4(),
        user_id=user_id,
        singer_profile_id=original.singer_profile_id,
        input_object_key=original.input_object_key,
        params=params,
        input_hash=original.input_hash,
    )  # its feature-cache entry is found by input_hash when it runs, if still cached
    return job_json(_queued(service, clone))


def _require_usable_profile(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    profile = owned_profile(service, user_id, profile_id)
    if not profile.usable_for_render:
        raise NotReadyError(
            f"singer profile {profile_id} is {profile.unusable_reason}; a render needs it built"
        )


def _queued(service: Service, job: RenderJob) -> RenderJob:
    """Insert ``job`` and queue its render; a job the queue refused is failed at once."""
    stored = service.jobs.add(job)
    try:
        service.queue.enqueue_render_job(user_id=job.user_id, job_id=job.id)
    except QueueUnavailableError as error:
        service.jobs.transition(
            user_id=job.user_id,
            job_id=job.id,
            from_status=JobStatus.QUEUED,
            to_status=JobStatus.FAILED,
            error_code=error.code,
            error_message=error.message,
        )
        raise
    return stored


JOB = "/v1/render-jobs/{job_id:uuid}"
ROUTES = [
    v1_route("/v1/render-jobs:prepare-upload", prepare_input_upload),
    v1_route("/v1/render-jobs", create_job, body=NewRenderJob, status_code=201),
    v1_route(JOB, get_job, methods=("GET",)),
    v1_route(JOB + ":download", download_job),
    v1_route(JOB + ":clone", clone_job, body=RenderJobClone, status_code=201),
]
