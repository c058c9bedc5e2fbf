"""Render jobs over HTTP (the rules are :mod:`voxregen_core.use_cases.render_jobs`'):

- ``POST /v1/render-jobs:prepare-upload`` → ``{job_id, object_key, upload_url, expires_at}``:
  reserves a job id, which the input key ``users/{user_id}/jobs/{job_id}/input.wav`` carries.
- ``POST /v1/render-jobs`` ``{singer_profile_id, input_object_key, params}`` → 201, the job
  ``queued`` and a ``render_job`` message on the queue. Needs the caller's profile usable for a
  render (409 for a profile never built or in ``error``) and the uploaded input (404 if
  missing, 422 if too large).
- ``GET /v1/render-jobs?limit=&cursor=&status=&singer_profile_id=`` → a page of the caller's
  jobs, newest first: ``{items, next_cursor}`` (:mod:`voxregen_core.pagination`).
- ``GET /v1/render-jobs/{job_id}`` → status, ``progress {chunks_done, chunks_total}``,
  ``metrics``, for a failed job ``error {code, message}``, and ``input_expired_at`` /
  ``output_expired_at`` once the retention sweep deleted the input / the output.
- ``POST /v1/render-jobs/{job_id}:cancel`` → the job, ``canceled``: a queued or running job
  stops, delivers nothing and its chunks are deleted; canceling it again answers it again; a
  done or failed job is a 409 (``job_finished``).
- ``DELETE /v1/render-jobs/{job_id}`` → 204: the job (canceled first if queued or running),
  its objects and the feature-cache entries only it refers to are gone; it answers 404 after.
- ``POST /v1/render-jobs/{job_id}:download`` → ``{download_url, expires_at}`` once ``done``
  (409 before, 410 ``output_expired`` once the output is deleted).
- ``POST /v1/render-jobs/{job_id}:download-input`` → the same for the job's input, in any
  status (410 ``input_expired`` once the input is deleted).
- ``POST /v1/render-jobs/{job_id}:clone`` ``{params}`` → 201, a new job on the same input and
  cached features, its params the original's with ``params`` applied over them (410
  ``input_expired`` once the input is deleted).

If the queue cannot take the message, the new job is failed at once with the queue's error
and the request answers 503.
"""

import uuid
from typing import Any

from voxregen_adapters.service import Service
from voxregen_core.job_document import job_document
from voxregen_core.use_cases import render_jobs
from voxregen_http.bodies import NewRenderJob, RenderJobClone
from voxregen_http.endpoint import v1_route
from voxregen_http.queries import JobListQuery
from voxregen_http.representations import download_json, job_upload_json, page_json


def prepare_input_upload(service: Service, user_id: uuid.UUID) -> dict[str, Any]:
    return job_upload_json(render_jobs.prepare_job_upload(service, user_id=user_id))


def create_job(service: Service, user_id: uuid.UUID, body: NewRenderJob) -> dict[str, Any]:
    job = render_jobs.create_job(
        service,
        user_id=user_id,
        singer_profile_id=body.singer_profile_id,
        input_object_key=body.input_object_key,
        params=body.params,
        webhook_url=body.webhook_url,
        webhook_events=body.webhook_events,
    )
    return job_document(job)


def get_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    return job_document(render_jobs.get_job(service, user_id=user_id, job_id=job_id))


def list_jobs(service: Service, user_id: uuid.UUID, query: JobListQuery) -> dict[str, Any]:
    page = render_jobs.list_jobs(
        service,
        user_id=user_id,
        limit=query.limit,
        cursor=query.cursor,
        status=query.status,
        singer_profile_id=query.singer_profile_id,
    )
    return page_json(page, job_document)


def cancel_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    return job_document(render_jobs.cancel_job(service, user_id=user_id, job_id=job_id))


def delete_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
    render_jobs.delete_job(service, user_id=user_id, job_id=job_id)


def download_job(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    return download_json(render_jobs.download_job(service, user_id=user_id, job_id=job_id))


def download_job_input(service: Service, user_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    return download_json(render_jobs.download_job_input(service, user_id=user_id, job_id=job_id))


def clone_job(
    service: Service, user_id: uuid.UUID, body: RenderJobClone, job_id: uuid.UUID
) -> dict[str, Any]:
    clone = render_jobs.clone_job(
        service,
        user_id=user_id,
        job_id=job_id,
        overrides=body.params,
        webhook_url=body.webhook_url,
        webhook_events=body.webhook_events,
    )
    return job_document(clone)


JOB = "/v1/render-jobs/{job_id:uuid}"
ROUTES = [
    v1_route("/v1/render-jobs:prepare-upload", prepare_input_upload),
    v1_route("/v1/render-jobs", create_job, body=NewRenderJob, status_code=201),
    v1_route("/v1/render-jobs", list_jobs, methods=("GET",), query=JobListQuery),
    v1_route(JOB, get_job, methods=("GET",)),
    v1_route(JOB, delete_job, methods=("DELETE",), status_code=204),
    v1_route(JOB + ":cancel", cancel_job),
    v1_route(JOB + ":download", download_job),
    v1_route(JOB + ":download-input", download_job_input),
    v1_route(JOB + ":clone", clone_job, body=RenderJobClone, status_code=201),
]
