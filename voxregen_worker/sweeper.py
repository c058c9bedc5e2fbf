"""``Sweeper``: finds render jobs whose messages were lost, and queues them again or fails them.

Messages can be lost outright: a Redis restarted without persistence drops its queues, and a
worker can die after its job's row changed but before the next message was sent. Every worker
process runs a sweeper thread. Each pass claims the queued or running jobs whose row has not
changed for ``stall_timeout_s`` (a running job's row changes with every chunk recorded), and:

- fails those older than ``job_deadline_s`` with ``render_timed_out``, so no job stays
  ``queued`` or ``running`` forever;
- queues ``render_job`` again for the others. ``render_job`` is idempotent: it resumes from the
  job's ledger, so a job whose messages were only slow loses nothing but a little work.

Claiming marks the row changed, so sweepers in several workers never pick the same job in
the same stall period. A pass that cannot reach the database or the queue logs and waits for
the next one.
"""

import threading
from datetime import timedelta

import attrs
import structlog

from voxregen_adapters import actor_names
from voxregen_adapters.service import Service
from voxregen_core.errors import VoxregenError
from voxregen_worker.render_job import fail_job

RENDER_TIMED_OUT = "render_timed_out"
CLAIM_LIMIT = 100


@attrs.frozen
class Sweeper:
    service: Service
    stall_timeout_s: float
    job_deadline_s: float

    @property
    def interval_s(self) -> float:
        """Time between passes: a stalled job waits at most 1.5 stall timeouts."""
        return self.stall_timeout_s / 2.0

    def sweep(self) -> tuple[int, int]:
        """One pass; returns how many jobs were queued again and how many failed."""
        now = self.service.clock.now()
        stalled = self.service.jobs.claim_stalled(
            unchanged_since=now - timedelta(seconds=self.stall_timeout_s), limit=CLAIM_LIMIT
        )
        requeued = failed = 0
        log = structlog.get_logger()
        for job in stalled:
            with structlog.contextvars.bound_contextvars(
                job_id=str(job.id), user_id=str(job.user_id)
            ):
                age_s = (now - job.created_at).total_seconds()
                if age_s > self.job_deadline_s:
                    message = (
                        f"the job was not done {self.job_deadline_s:g} s after it was created "
                        f"(it stalled at {job.progress.chunks_done} of "
                        f"{job.progress.chunks_total} chunks); submit it again"
                    )
                    fail_job(self.service, job, RENDER_TIMED_OUT, message)
                    failed += 1
                else:
                    self.service.queue.enqueue(
                        actor_names.RENDER_JOB, str(job.user_id), str(job.id)
                    )
                    log.warning("render_job_requeued", status=job.status.value, age_s=age_s)
                    requeued += 1
        return requeued, failed

    def run(self, stop: threading.Event) -> None:
        """Sweep every :attr:`interval_s` until ``stop`` is set."""
        while not stop.wait(timeout=self.interval_s):
            try:
                self.sweep()
            except VoxregenError as error:
                structlog.get_logger().warning(
                    "sweep_failed", error_code=error.code, error=error.message
                )
