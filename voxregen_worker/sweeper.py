"""``Sweeper``: finds render jobs and profile builds whose messages were lost, and queues them
again (or fails a job past its deadline); evicts the feature cache's idle entries; and deletes
the jobs' objects past their retention.

Messages can be lost outright: a Redis restarted without persistence drops its queues, and a
worker can die after a row changed but before the next message was sent. Every worker process
runs a sweeper thread. Each pass claims the rows whose status has not moved for
``stall_timeout_s`` (a running job's row changes with every chunk recorded):

- queued or running jobs older than ``job_deadline_s`` fail with ``render_timed_out``, so no
  job stays ``queued`` or ``running`` forever;
- the other such jobs get ``render_job`` queued again. It is idempotent: it resumes from the
  job's ledger, so a job whose messages were only slow loses nothing but a little work;
- building profiles with at least one reference get ``profile_build`` queued again (a build
  is idempotent too, and one that keeps failing ends in ``error`` when Dramatiq gives up on
  it). A new profile with no reference has nothing to build: it stays ``building``, waiting
  for its first, however long that takes.

Claiming marks the row changed, so sweepers in several workers never pick the same row in the
same stall period.

Each pass then evicts up to ``CLAIM_LIMIT`` feature-cache entries unused for
``feature_cache_max_idle_s`` (``VOXREGEN_FEATURE_CACHE_MAX_IDLE_S``), blob and row, as the
cache policy (:func:`voxregen_core.feature_cache.evictable`) decides: never one that a queued
or running job may still read (:mod:`voxregen_adapters.db.feature_cache_eviction` says how a
job in flight is kept safe). A later render of that input misses the cache and extracts again.

Each pass then deletes up to ``CLAIM_LIMIT`` of the idempotency keys claimed more than
:data:`~voxregen_core.idempotency.RETENTION_S` (24 h) ago.

Each pass then deletes, up to ``CLAIM_LIMIT`` of each, the chunks, outputs and inputs past
their ``retention`` (``VOXREGEN_RETENTION_*_S``) as :mod:`voxregen_core.retention` decides,
never one that a queued or running job may still read (:mod:`voxregen_worker.retention_sweep`).

A pass that cannot reach the database, the store or the queue logs and waits for the next one.
"""

import threading
from datetime import datetime, timedelta

import attrs
import structlog

from voxregen_adapters.service import Service
from voxregen_core import idempotency
from voxregen_core.errors import VoxregenError
from voxregen_core.jobs import RenderJob
from voxregen_core.retention import RetentionPolicy
from voxregen_core.use_cases.render_jobs import fail_job
from voxregen_worker.retention_sweep import RetentionOutcome, sweep_retention

RENDER_TIMED_OUT = "render_timed_out"
CLAIM_LIMIT = 100


@attrs.frozen
class SweepOutcome:
    jobs_requeued: int = 0
    jobs_failed: int = 0
    profiles_requeued: int = 0
    feature_cache_evicted: int = 0
    idempotency_keys_expired: int = 0
    retention: RetentionOutcome = attrs.field(factory=RetentionOutcome)


@attrs.frozen
class Sweeper:
    service: Service
    stall_timeout_s: float
    job_deadline_s: float
    feature_cache_max_idle_s: float
    retention: RetentionPolicy

    @property
    def interval_s(self) -> float:
        """Time between passes: a stalled row waits at most 1.5 stall timeouts."""
        return self.stall_timeout_s / 2.0

    def sweep(self) -> SweepOutcome:
        """One pass over jobs, then profiles, then the feature cache, then idempotency keys,
        then the jobs' objects past their retention."""
        now = self.service.clock.now()
        unchanged_since = now - timedelta(seconds=self.stall_timeout_s)
        requeued = failed = 0
        for job in self.service.jobs.claim_stalled(
            unchanged_since=unchanged_since, limit=CLAIM_LIMIT
        ):
            with structlog.contextvars.bound_contextvars(
                job_id=str(job.id), user_id=str(job.user_id)
            ):
                if self._fail_or_requeue(job, now):
                    failed += 1
                else:
                    requeued += 1
        profiles = self.service.profiles.claim_stalled(
            unchanged_since=unchanged_since, limit=CLAIM_LIMIT
        )
        for profile in profiles:
            self.service.queue.enqueue_profile_build(user_id=profile.user_id, profile_id=profile.id)
            structlog.get_logger().warning(
                "profile_build_requeued", profile_id=str(profile.id), user_id=str(profile.user_id)
            )
        evicted = self.service.feature_cache_eviction.evict_idle(
            now=now,
            max_idle_s=self.feature_cache_max_idle_s,
            limit=CLAIM_LIMIT,
            delete_blob=self.service.store.delete,
        )
        for entry in evicted:
            structlog.get_logger().info(
                "feature_cache_evicted",
                user_id=str(entry.user_id),
                input_hash=entry.input_hash,
                feature_version=entry.feature_version,
                idle_s=round((now - entry.last_accessed_at).total_seconds()),
            )
        expired = self.service.idempotency_keys.expire(
            created_before=now - timedelta(seconds=idempotency.RETENTION_S), limit=CLAIM_LIMIT
        )
        return SweepOutcome(
            jobs_requeued=requeued,
            jobs_failed=failed,
            profiles_requeued=len(profiles),
            feature_cache_evicted=len(evicted),
            idempotency_keys_expired=expired,
            retention=sweep_retention(
                self.service, policy=self.retention, now=now, limit=CLAIM_LIMIT
            ),
        )

    def _fail_or_requeue(self, job: RenderJob, now: datetime) -> bool:
        """Fail the job if it is past its deadline, else queue it again; True if it failed."""
        age_s = (now - job.created_at).total_seconds()
        if age_s > self.job_deadline_s:
            message = (
                f"the job was not done {self.job_deadline_s:g} s after it was created "
                f"(it stalled at {job.progress.chunks_done} of {job.progress.chunks_total} "
                "chunks); submit it again"
            )
            if fail_job(self.service, job, code=RENDER_TIMED_OUT, message=message):
                structlog.get_logger().warning(
                    "render_job_failed", error_code=RENDER_TIMED_OUT, error=message
                )
            return True
        self.service.queue.enqueue_render_job(user_id=job.user_id, job_id=job.id)
        structlog.get_logger().warning(
            "render_job_requeued", status=job.status.value, age_s=round(age_s, 1)
        )
        return False

    def run(self, stop: threading.Event) -> None:
        """Sweep every :attr:`interval_s` until ``stop`` is set."""
        while not stop.wait(timeout=self.interval_s):
            try:
                self.sweep()
            except VoxregenError as error:
                structlog.get_logger().warning(
                    "sweep_failed", error_code=error.code, error=error.message
                )
