"""The retention policy of render jobs' objects, and the pure rules that decide, from the jobs'
rows, which of them the worker's sweep deletes (docs/operations.md, *Retention*).

=========  ====================================  ============================================
objects    deleted                               why then
=========  ====================================  ============================================
chunks     ``chunks_s`` (48 h) after the job     temporary: only a job in flight reads them
           was created, once it is finished      (the output holds the result)
input      ``inputs_s`` (30 d) after the oldest  lets the user clone the job (re-render the
           job that renders it was created       upload with other params) for a month
output     ``outputs_s`` (60 d) after the job    the deliverable, downloaded once or a few
           was created                           times
=========  ====================================  ============================================

Two more retentions belong to the same policy, and are kept with what they keep: a feature-cache
entry unused for ``VOXREGEN_FEATURE_CACHE_MAX_IDLE_S`` (30 d) is evicted
(:func:`voxregen_core.feature_cache.evictable`), and an idempotency key goes after
:data:`voxregen_core.idempotency.RETENTION_S` (24 h). A reference is never deleted by age: it
backs its profile for as long as the profile exists.

The rules:

- Age is judged from the job's row (``created_at``), never from an object's modification
  time, against the clock the sweep is given. An input is uploaded just before its job is
  created; chunks and the output are written while the job runs (at most the job deadline).
- Nothing a queued or running job may read is deleted: such a job keeps its chunks and its
  input, and also every input of its user with the same input hash (the same audio).
- An input is shared: a clone renders its original's input key. Its age is the upload's (the
  oldest job rendering it), as a storage lifecycle rule would count it: a clone does not
  extend it. It goes once for all the jobs on it.
- Each deletion is recorded on the jobs' rows (``chunks_expired_at``, ``input_expired_at``,
  ``output_expired_at``), so that a sweep chooses it once, a clone of a job whose input is gone
  is refused with ``input_expired`` and a download of an output that is gone with
  ``output_expired``.
"""

from collections.abc import Iterable
from datetime import datetime

import attrs
from attrs import validators as v

from voxregen_core.jobs import IN_FLIGHT, JobStatus, RenderJob

HOUR_S = 3600.0
DAY_S = 24 * HOUR_S
CHUNKS_S = 48 * HOUR_S
INPUTS_S = 30 * DAY_S
OUTPUTS_S = 60 * DAY_S

_SECONDS = [v.instance_of(int | float), v.gt(0)]


@attrs.frozen
class RetentionPolicy:
    """How long a job's objects are kept, in seconds (each > 0)."""

    chunks_s: float = attrs.field(default=CHUNKS_S, validator=_SECONDS)
    inputs_s: float = attrs.field(default=INPUTS_S, validator=_SECONDS)
    outputs_s: float = attrs.field(default=OUTPUTS_S, validator=_SECONDS)


def chunks_expire(job: RenderJob, *, now: datetime, policy: RetentionPolicy) -> bool:
    """Whether the job's chunk objects go at ``now``: the job is finished (done, failed or
    canceled: a queued or running job resumes from them), was created more than
    ``policy.chunks_s`` ago, and they have not gone already."""
    return (
        job.status.finished
        and job.chunks_expired_at is None
        and _older_than(job.created_at, policy.chunks_s, now=now)
    )


def output_expires(job: RenderJob, *, now: datetime, policy: RetentionPolicy) -> bool:
    """Whether the job's output object goes at ``now``: the job is done, was created more than
    ``policy.outputs_s`` ago, and its output has not gone already."""
    return (
        job.status is JobStatus.DONE
        and job.output_object_key is not None
        and job.output_expired_at is None
        and _older_than(job.created_at, policy.outputs_s, now=now)
    )


def input_expires(
    input_object_key: str, jobs: Iterable[RenderJob], *, now: datetime, policy: RetentionPolicy
) -> bool:
    """Whether the object ``input_object_key`` goes at ``now``, judged from ``jobs``: the jobs
    rendering it and those of the same user sharing their input hash (any superset will do,
    such as every job of every user).

    It goes if a job renders it whose input has not gone yet, the oldest job rendering it was
    created more than ``policy.inputs_s`` ago, and no job rendering it or its audio (the same
    input hash, the same user) is queued or running."""
    jobs = list(jobs)
    readers = [job for job in jobs if job.input_object_key == input_object_key]
    if all(job.input_expired_at is not None for job in readers):
        return False  # none renders it (nothing to judge by), or it has gone already
    users = {job.user_id for job in readers}
    hashes = {job.input_hash for job in readers if job.input_hash is not None}
    sharing = [
        job
        for job in jobs
        if job.user_id in users
        and (job.input_object_key == input_object_key or job.input_hash in hashes)
    ]
    if any(job.status in IN_FLIGHT for job in sharing):
        return False
    created = [job.created_at for job in readers if job.created_at is not None]
    return bool(created) and _older_than(min(created), policy.inputs_s, now=now)


def _older_than(created_at: datetime | None, age_s: float, *, now: datetime) -> bool:
    return created_at is not None and (now - created_at).total_seconds() > age_s
