"""``RepositoryProgressReporter``: a render's progress written to its job row after every
chunk, with one log line per chunk."""

import time
import uuid

import structlog

from voxregen_core.jobs import Progress
from voxregen_core.ports import RenderJobRepository
from voxregen_worker.elapsed import ms_since


class RepositoryProgressReporter:
    """The :class:`~voxregen_core.ports.ProgressReporter` of one running job.

    The pipeline reports ``chunks_done=0`` once the chunks are planned, then once per chunk
    stored (or found stored); each chunk's line carries its ``chunk_index`` and the
    ``elapsed_ms`` since the previous report.
    """

    def __init__(self, jobs: RenderJobRepository, *, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        self._jobs = jobs
        self._user_id = user_id
        self._job_id = job_id
        self._last = time.perf_counter()

    def report(self, progress: Progress) -> None:
        self._jobs.update_progress(user_id=self._user_id, job_id=self._job_id, progress=progress)
        elapsed_ms = ms_since(self._last)
        self._last = time.perf_counter()
        if progress.chunks_done > 0:
            structlog.get_logger().info(
                "render_chunk",
                stage="chunks",
                chunk_index=progress.chunks_done - 1,
                chunks_done=progress.chunks_done,
                chunks_total=progress.chunks_total,
                elapsed_ms=elapsed_ms,
            )
