"""Render jobs' use cases: prepare a job's upload, create, get, list, clone, cancel and download
a job (its output, or its input back); and, for the worker and its sweeper, fail a job and find the profile a running job may
render with.

Every one is scoped by the caller's ``user_id``: another user's job is a
:class:`~voxregen_core.errors.NotFoundError`, exactly like a missing one.

- Preparing an upload reserves a job id: the input key ``users/{user_id}/jobs/{job_id}/input.wav``
  carries it, and the job later created from that key takes it (no table of reservations).
- A new job, or a clone, needs the caller's profile usable for a render (``ready``, or
  ``building`` over an embedding already built: a rebuild) and the uploaded input (no larger
  than :data:`~voxregen_core.use_cases.uploads.MAX_UPLOAD_BYTES`); it is stored ``queued`` and a
  render is queued. If the queue cannot take the message, the job is failed at once with the
  queue's error (it would otherwise stay ``queued`` forever) and the error is raised.
- A new job takes its upload (:func:`~voxregen_core.use_cases.uploads.take_upload`): from then
  on its upload URL changes nothing the job or its clones read.
- A clone renders the same input (and, while cached, its features) with its original's
  params, the given overrides applied over them, if the input still has its original's hash
  (once the original has one: its worker hashed the input); else 409 ``input_changed``. The
  worker checks the hash again when the clone runs (:func:`voxregen_core.stages.prepare`).
  Once the retention sweep deleted that input (:mod:`voxregen_core.retention`), or it is gone
  from the store, the clone is refused with ``input_expired``.
- A job's output can be downloaded once it is ``done``, until it is deleted by the retention
  sweep (or gone from the store): ``output_expired`` then.
- A job's input can be downloaded back whatever the job's status (a client shows it beside the
  output), while it is kept: ``input_expired`` once it is not, as for a clone.
- A queued or running job can be canceled: it moves to ``canceled`` by compare-and-set, so a
  worker finishing it at the same moment either wins (the cancel is then refused: the job is
  done) or finds it canceled and delivers nothing.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from voxregen_core.errors import (
    ConflictError,
    InputExpiredError,
    InvalidFieldError,
    InvalidKeyError,
    InvalidParamsError,
    JobFinishedError,
    NotFoundError,
    NotReadyError,
    ObjectNotFoundError,
    OutputExpiredError,
    ProfileNotReadyError,
    QueueUnavailableError,
)
from voxregen_core.input_hash import check_unchanged, file_input_hash
from voxregen_core.jobs import JobDeletion, JobStatus, RenderJob
from voxregen_core.keys import chunks_prefix, job_input_key, job_prefix
from voxregen_core.pagination import Page, page_of, page_request
from voxregen_core.params import RenderParams
from voxregen_core.ports import ObjectStore, ServicePorts
from voxregen_core.profiles import SingerProfile
from voxregen_core.use_cases.profiles import owned_profile
from voxregen_core.use_cases.uploads import (
    DownloadLink,
    PreparedUpload,
    check_upload,
    download_link,
    prepare_upload,
    reserved_job_id,
    take_upload,
)
from voxregen_core.use_cases.webhooks import checked_target, notify
from voxregen_core.webhooks import WebhookEvent

JOBS_LIST = "render-jobs"


def get_job(ports: ServicePorts, *, user_id: uuid.UUID, job_id: uuid.UUID) -> RenderJob:
    """The caller's job; raises :class:`NotFoundError` for a missing or another user's."""
    job = ports.jobs.get(user_id=user_id, job_id=job_id)
    if job is None:
        raise NotFoundError(f"no render job {job_id}")
    return job


def list_jobs(
    ports: ServicePorts,
    *,
    user_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    status: JobStatus | None = None,
    singer_profile_id: uuid.UUID | None = None,
) -> Page[RenderJob]:
    """A page of the caller's jobs, newest first, only those with ``status`` and of
    ``singer_profile_id`` when given (another user's profile id matches none of the caller's
    jobs: an empty page, not a 404, as for any filter that matches nothing)."""
    page = page_request(user_id=user_id, list_name=JOBS_LIST, limit=limit, cursor=cursor)
    jobs = ports.jobs.list_page(
        user_id=user_id, page=page, status=status, singer_profile_id=singer_profile_id
    )
    return page_of(jobs, page, user_id=user_id, list_name=JOBS_LIST)


def prepare_job_upload(ports: ServicePorts, *, user_id: uuid.UUID) -> PreparedUpload:
    """A PUT URL for the input key of a new job, whose id the key reserves."""
    job_id = uuid.uuid4()
    return prepare_upload(ports.store, ports.clock, job_id, job_input_key(user_id, job_id))


def create_job(
    ports: ServicePorts,
    *,
    user_id: uuid.UUID,
    singer_profile_id: uuid.UUID,
    input_object_key: str,
    params: RenderParams,
    webhook_url: str | None = None,
    webhook_events: list[str] | None = None,
) -> RenderJob:
    """The new job on the uploaded ``input_object_key``, queued (module docstring), with its
    webhooks going to ``webhook_url`` for ``webhook_events`` if given
    (:func:`~voxregen_core.use_cases.webhooks.checked_target`).

    Raises :class:`InvalidFieldError` (``input_object_key``) for a key that is not a job
    input key; :class:`~voxregen_core.errors.ObjectNotFoundError` for another user's key or
    nothing uploaded; :class:`NotFoundError` or :class:`NotReadyError` for a profile missing
    or not usable; :class:`ConflictError` if the key's job exists already;
    :class:`~voxregen_core.errors.UploadTooLargeError`; :class:`QueueUnavailableError`.
    Every check comes before the upload is taken, so that a refused create leaves the upload
    URL open for another try.
    """
    try:
        job_id = reserved_job_id(input_object_key, user_id=user_id)
    except InvalidKeyError as error:
        raise InvalidFieldError("input_object_key", str(error)) from None
    webhook = checked_target(ports.webhook_sender, webhook_url, webhook_events)
    _require_usable_profile(ports, user_id, singer_profile_id)
    if ports.jobs.get(user_id=user_id, job_id=job_id) is not None:
        raise ConflictError(
            f"render job {job_id} already exists for this input; clone it to render again"
        )
    take_upload(ports.store, input_object_key)
    job = RenderJob(
        id=job_id,
        user_id=user_id,
        singer_profile_id=singer_profile_id,
        input_object_key=input_object_key,
        params=params,
        webhook=webhook,
    )
    return _queued(ports, job)


def clone_job(
    ports: ServicePorts,
    *,
    user_id: uuid.UUID,
    job_id: uuid.UUID,
    overrides: Mapping[str, Any],
    webhook_url: str | None = None,
    webhook_events: list[str] | None = None,
) -> RenderJob:
    """A new job on the same input as the caller's job ``job_id``, with its params and
    ``overrides`` over them, queued (module docstring).

    Raises :class:`NotFoundError` for a missing or another user's job (or profile),
    :class:`InvalidFieldError` (``params``) for overrides the params refuse,
    :class:`InputExpiredError` once its input is deleted,
    :class:`~voxregen_core.errors.InputChangedError` for an input that no longer has the
    original's hash, and otherwise as :func:`create_job`.
    """
    original = get_job(ports, user_id=user_id, job_id=job_id)
    webhook = checked_target(ports.webhook_sender, webhook_url, webhook_events)
    try:
        params = original.params.with_overrides(overrides)
    except InvalidParamsError as error:
        raise InvalidFieldError("params", str(error)) from None
    if original.singer_profile_id is None:
        raise NotReadyError(
            f"render job {job_id}'s singer profile was deleted; create a job with another"
        )
    _require_usable_profile(ports, user_id, original.singer_profile_id)
    _require_input_kept(ports, original)
    if original.input_hash is not None:
        with ports.store.open(original.input_object_key) as file:
            check_unchanged(
                file_input_hash(file),
                expected=original.input_hash,
                key=original.input_object_key,
            )
    clone = RenderJob(
        id=uuid.uuid4(),
        user_id=user_id,
        singer_profile_id=original.singer_profile_id,
        input_object_key=original.input_object_key,
        params=params,
        input_hash=original.input_hash,
        webhook=webhook,
    )  # its feature-cache entry is found by input_hash when it runs, if still cached
    return _queued(ports, clone)


def cancel_job(ports: ServicePorts, *, user_id: uuid.UUID, job_id: uuid.UUID) -> RenderJob:
    """Stop the caller's queued or running job: it becomes ``canceled`` and its stored chunks
    are deleted; the worker then leaves its remaining chunk messages alone and delivers
    nothing (:mod:`voxregen_worker.render_job`). A canceled job is answered again (and its
    chunks looked for again, so a retry after a storage outage finishes the cleanup).

    Raises :class:`NotFoundError` for a missing or another user's job and
    :class:`JobFinishedError` for one already done or failed.
    """
    before = get_job(ports, user_id=user_id, job_id=job_id)
    job = _canceled(ports, before)
    if job.status is not JobStatus.CANCELED:
        raise JobFinishedError(
            f"render job {job_id} is {job.status.value}; only a queued or running job can be "
            "canceled"
        )
    delete_chunks(ports.store, job)
    if before.status is not JobStatus.CANCELED:
        notify(ports, job, WebhookEvent.COMPLETED)
    return job


def delete_job(ports: ServicePorts, *, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
    """Delete the caller's job: a queued or running one is canceled first, then its objects
    (input, chunks, output) and its row go, and with them the feature-cache entries and blobs
    of its input that no other job of the caller refers to. An input another job renders (a
    clone shares its original's) stays until the last of them is deleted.

    The objects are deleted with the row locked, before the row is (see
    :meth:`~voxregen_core.ports.RenderJobRepository.delete`): if that fails half-way (the
    store unreachable, the process killed), the job is still there, minus some objects, and
    deleting it again finishes; no object is left without its row. Raises
    :class:`NotFoundError` for a missing or another user's job.
    """
    job = _canceled(ports, get_job(ports, user_id=user_id, job_id=job_id))

    def delete_objects(deletion: JobDeletion) -> None:
        keys = set(ports.store.list(job_prefix(user_id, job_id))) | {job.input_object_key}
        if deletion.input_shared:
            keys.discard(job.input_object_key)
        for key in sorted(keys):
            ports.store.delete(key)
        for entry in deletion.feature_cache_entries:
            ports.store.delete(entry.object_key)

    if not ports.jobs.delete(user_id=user_id, job_id=job_id, delete_objects=delete_objects):
        raise NotFoundError(f"no render job {job_id}")


def _canceled(ports: ServicePorts, job: RenderJob) -> RenderJob:
    """``job`` canceled if it is queued or running (by compare-and-set: queued first, since it
    may start meanwhile), as it is now."""
    for from_status in (JobStatus.QUEUED, JobStatus.RUNNING):
        if not job.status.finished:
            ports.jobs.transition(
                user_id=job.user_id,
                job_id=job.id,
                from_status=from_status,
                to_status=JobStatus.CANCELED,
            )
            job = get_job(ports, user_id=job.user_id, job_id=job.id)
    return job


def delete_chunks(store: ObjectStore, job: RenderJob) -> None:
    """Delete the job's stored chunk objects (temporary: a delivered or canceled job needs
    none)."""
    for key in store.list(chunks_prefix(job.user_id, job.id)):
        store.delete(key)


def download_job(ports: ServicePorts, *, user_id: uuid.UUID, job_id: uuid.UUID) -> DownloadLink:
    """A GET URL for the caller's job's output; raises :class:`NotFoundError` for a missing
    or another user's job, :class:`NotReadyError` before it is done,
    :class:`OutputExpiredError` once its output is deleted."""
    job = get_job(ports, user_id=user_id, job_id=job_id)
    if job.status is not JobStatus.DONE or job.output_object_key is None:
        raise NotReadyError(
            f"render job {job_id} is {job.status.value}; its output can be downloaded once done"
        )
    if job.output_expired_at is not None:
        raise OutputExpiredError(
            f"render job {job_id}'s output was deleted on {job.output_expired_at:%Y-%m-%d} "
            "(outputs are kept for a limited time after the job); clone the job to render it "
            "again"
        )
    if not ports.store.exists(job.output_object_key):
        raise OutputExpiredError(
            f"render job {job_id}'s output is no longer stored (outputs are kept for a limited "
            "time after the job); clone the job to render it again"
        )
    return download_link(ports.store, ports.clock, job.output_object_key)


def download_job_input(
    ports: ServicePorts, *, user_id: uuid.UUID, job_id: uuid.UUID
) -> DownloadLink:
    """A GET URL for the caller's job's input, the stem it renders, in any status; raises
    :class:`NotFoundError` for a missing or another user's job, :class:`InputExpiredError`
    once its input is deleted."""
    job = get_job(ports, user_id=user_id, job_id=job_id)
    _require_input_kept(ports, job)
    return download_link(ports.store, ports.clock, job.input_object_key)


def fail_job(ports: ServicePorts, job: RenderJob, *, code: str, message: str) -> bool:
    """Move the job to failed from wherever it is (queued or running), with ``code`` and
    ``message``, and queue its ``completed`` webhook; True if this call moved it (False if it
    was finished already)."""
    moved = any(
        ports.jobs.transition(
            user_id=job.user_id,
            job_id=job.id,
            from_status=from_status,
            to_status=JobStatus.FAILED,
            error_code=code,
            error_message=message,
        )
        for from_status in (JobStatus.RUNNING, JobStatus.QUEUED)
    )
    failed = ports.jobs.get(user_id=job.user_id, job_id=job.id) if moved else None
    if failed is not None:  # (None: deleted meanwhile)
        notify(ports, failed, WebhookEvent.COMPLETED)
    return moved


def usable_profile_for(ports: ServicePorts, job: RenderJob) -> SingerProfile:
    """The job's profile as it is now, if a render may use it (ready, or rebuilding over a
    built embedding); raises :class:`ProfileNotReadyError` if it is missing, never built or in
    error (the job cannot run: the worker fails it with the error's code)."""
    if job.singer_profile_id is None:
        raise ProfileNotReadyError("the job's singer profile was deleted")
    profile = ports.profiles.get(user_id=job.user_id, profile_id=job.singer_profile_id)
    if profile is not None and profile.usable_for_render:
        return profile
    reason = "missing" if profile is None else profile.unusable_reason
    raise ProfileNotReadyError(f"singer profile {job.singer_profile_id} is {reason}")


def _require_usable_profile(ports: ServicePorts, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    """For a new job: :class:`NotFoundError` for a missing or another user's profile,
    :class:`NotReadyError` for one a render may not use."""
    profile = owned_profile(ports, user_id=user_id, profile_id=profile_id)
    if not profile.usable_for_render:
        raise NotReadyError(
            f"singer profile {profile_id} is {profile.unusable_reason}; a render needs it built"
        )


def _require_input_kept(ports: ServicePorts, job: RenderJob) -> None:
    """For a clone or an input download: :class:`InputExpiredError` if the job's input was
    deleted by the retention sweep, or is gone from the store (a storage lifecycle rule); else
    as :func:`~voxregen_core.use_cases.uploads.check_upload`."""
    advice = "upload the stem again and create a new job"
    if job.input_expired_at is not None:
        raise InputExpiredError(
            f"render job {job.id}'s input was deleted on {job.input_expired_at:%Y-%m-%d} "
            f"(inputs are kept for a limited time after upload); {advice}"
        )
    try:
        check_upload(ports.store, job.input_object_key)
    except ObjectNotFoundError:
        raise InputExpiredError(
            f"render job {job.id}'s input is no longer stored (inputs are kept for a limited "
            f"time after upload); {advice}"
        ) from None


def _queued(ports: ServicePorts, job: RenderJob) -> RenderJob:
    """Insert ``job`` and queue its render; a job the queue refused is failed at once."""
    stored = ports.jobs.add(job)
    try:
        ports.queue.enqueue_render_job(user_id=job.user_id, job_id=job.id)
    except QueueUnavailableError as error:
        fail_job(ports, stored, code=error.code, message=error.message)
        raise
    return stored
