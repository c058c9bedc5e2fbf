"""One pass of the retention sweep of render jobs' objects, on whichever store the service has
(local folder or S3): the sweeper (:mod:`voxregen_worker.sweeper`) runs it on each of its
passes.

:mod:`voxregen_core.retention` decides what goes, from the jobs' rows, at the service clock's
time: the chunks of finished jobs past ``chunks_s``, the outputs past ``outputs_s``, the inputs
past ``inputs_s`` that no job in flight may read (:mod:`voxregen_adapters.db.retention_sweep`
says how several sweepers, and a clone being made, are kept apart). Each kind is taken up to
``limit`` a pass, oldest job first; each deletion logs one line.
"""

from datetime import datetime

import attrs
import structlog

from voxregen_adapters.service import Service
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import parse_key
from voxregen_core.retention import RetentionPolicy
from voxregen_core.use_cases.render_jobs import delete_chunks


@attrs.frozen
class RetentionOutcome:
    """How many jobs had their chunks, and their output, deleted; how many inputs were."""

    chunks_expired: int = 0
    outputs_expired: int = 0
    inputs_expired: int = 0


def sweep_retention(
    service: Service, *, policy: RetentionPolicy, now: datetime, limit: int
) -> RetentionOutcome:
    """Delete what ``policy`` says is past its time at ``now``: chunks, then outputs, then
    inputs, up to ``limit`` of each."""
    sweep, store = service.retention_sweep, service.store
    chunked = sweep.expire_chunks(
        now=now, policy=policy, limit=limit, delete_chunks=lambda job: delete_chunks(store, job)
    )
    _log_jobs("render_chunks_expired", chunked, now)
    outputs = sweep.expire_outputs(now=now, policy=policy, limit=limit, delete_object=store.delete)
    _log_jobs("render_output_expired", outputs, now)
    inputs = sweep.expire_inputs(now=now, policy=policy, limit=limit, delete_object=store.delete)
    for key in inputs:
        structlog.get_logger().info(
            "render_input_expired", user_id=str(parse_key(key).user_id), object_key=key
        )
    return RetentionOutcome(
        chunks_expired=len(chunked), outputs_expired=len(outputs), inputs_expired=len(inputs)
    )


def _log_jobs(event: str, jobs: list[RenderJob], now: datetime) -> None:
    for job in jobs:
        structlog.get_logger().info(
            event,
            job_id=str(job.id),
            user_id=str(job.user_id),
            status=job.status.value,
            age_s=round((now - job.created_at).total_seconds()),
        )
