"""A render job as JSON: what ``GET /v1/render-jobs/{id}`` answers, and the ``data`` of the job's
webhooks (:mod:`voxregen_core.webhooks`), so the two can never differ."""

from datetime import datetime
from typing import Any

from voxregen_core.jobs import JobStatus, RenderJob


def job_document(job: RenderJob) -> dict[str, Any]:
    """A job with its status, progress and metrics, for a failed job ``error``, its webhook
    target with the last delivery attempt, and when the retention sweep deleted its input and
    its output (:mod:`voxregen_core.retention`), if it did."""
    failed = job.status is JobStatus.FAILED
    webhook = None
    if job.webhook is not None:
        last = job.webhook_last_attempt
        webhook = job.webhook.to_json() | {"last_attempt": None if last is None else last.to_json()}
    return {
        "id": str(job.id),
        "status": job.status.value,
        "singer_profile_id": None if job.singer_profile_id is None else str(job.singer_profile_id),
        "input_object_key": job.input_object_key,
        "output_object_key": job.output_object_key,
        "params": job.params.to_json(),
        "progress": job.progress.to_json(),
        "metrics": job.metrics,
        "error": {"code": job.error_code, "message": job.error_message} if failed else None,
        "input_hash": job.input_hash,
        "stem_feature_cache_id": (
            None if job.stem_feature_cache_id is None else str(job.stem_feature_cache_id)
        ),
        "webhook": webhook,
        "input_expired_at": iso_timestamp(job.input_expired_at),
        "output_expired_at": iso_timestamp(job.output_expired_at),
        "created_at": iso_timestamp(job.created_at),
        "updated_at": iso_timestamp(job.updated_at),
    }


def iso_timestamp(value: datetime | None) -> str | None:
    """A timestamp as the API writes it (ISO 8601), or None."""
    return None if value is None else value.isoformat()
