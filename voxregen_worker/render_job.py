"""A render job's work in the worker, fanned out: ``render_job`` prepares the job and queues one
``render_chunk`` message per chunk, so that several workers (several GPUs, later) generate one
job's chunks in parallel; the worker that records the last chunk stitches, masters and
delivers, once.

Idempotent and resumable, whatever message arrives twice or dies half-way:

- A job already ``done``, ``failed`` or ``canceled`` is left alone (a redelivered message, or
  the chunk messages of a job canceled meanwhile, do nothing). A chunk stored after its job
  was canceled (or deleted) is deleted, and so is an output delivered at the moment of the
  cancel: the ``running → done`` move fails, and nothing of the job stays.
- ``render_job`` moves a ``queued`` job to ``running`` by compare-and-set, so of two messages
  racing for it one starts it; a job found ``running`` is resumed: it queues only the chunks
  its ledger does not list (:class:`~voxregen_core.jobs.ChunkLedger`), and delivers at once if
  none is missing (the previous deliverer died).
- ``render_chunk`` reuses a chunk already stored with this render's provenance (a killed
  worker loses at most the chunks in flight, one per thread), then records it in the job's
  ledger under a row lock: exactly one call per job completes the ledger, and that one
  delivers. A duplicate message finds its chunk stored and recorded, and stops there.
- Delivery is deterministic and ends in a ``running → done`` compare-and-set, so even two
  deliveries at once leave one output and one set of rows. The one that moves the job to
  ``done`` deletes its chunk objects (the storage lifecycle rule stays as the backstop).
- A job pins the embedding of its profile (its fingerprint, in the ledger and in every
  chunk's provenance). A profile being rebuilt stays usable with the embedding it has; once
  the rebuild replaces it, the next chunk or resume of the job starts its chunks over on the
  new one (:meth:`~voxregen_core.jobs.ChunkLedger.begun`), and a chunk still made with the
  old one is not recorded but queued again, so a delivered file comes from one embedding.
- Invalid input (a stem that cannot be rendered, a missing input object, a profile never
  built or in error: :func:`~voxregen_core.use_cases.render_jobs.usable_profile_for`) fails
  the job at once with the error's code (:func:`~voxregen_core.use_cases.render_jobs.fail_job`,
  the use case the sweeper fails a job with too). Transient failures (database,
  storage or queue unreachable) propagate so that Dramatiq retries the message with backoff;
  when it gives up, :meth:`Renderer.abandon` fails the job. Lost messages (a Redis restart)
  are found by the :mod:`~voxregen_worker.sweeper`.
"""

import threading
import time
import uuid
from datetime import datetime

import attrs
import numpy as np
import structlog

from voxregen_adapters.service import Service
from voxregen_core.audio_input import read_opened_stem
from voxregen_core.errors import (
    ChunkMissingError,
    InvalidInputError,
    NotFoundError,
    ObjectNotFoundError,
    ProfileNotReadyError,
    VoxregenError,
)
from voxregen_core.generator import ChunkFeatures, Device
from voxregen_core.jobs import IN_FLIGHT, ChunkLedger, JobStatus, RenderJob
from voxregen_core.keys import chunks_prefix, job_output_key
from voxregen_core.metrics import render_metrics
from voxregen_core.params import RenderParams
from voxregen_core.ports import Generator
from voxregen_core.profiles import SingerProfile
from voxregen_core.stage_timer import StageTimer
from voxregen_core.stages import PreparedStem, deliver, prepare, store_chunk
from voxregen_core.use_cases.render_jobs import fail_job, usable_profile_for
from voxregen_core.use_cases.webhooks import notify
from voxregen_core.webhooks import WebhookEvent
from voxregen_worker.elapsed import ms_since
from voxregen_worker.error_codes import error_code, error_message
from voxregen_worker.metrics import WorkerMetrics
from voxregen_worker.stem_cache import StemCache


@attrs.frozen
class Renderer:
    """The render actors' work over the service's ports, with this process's generator."""

    service: Service
    generator: Generator
    stems: StemCache = attrs.field(factory=StemCache)
    metrics: WorkerMetrics = attrs.field(factory=WorkerMetrics)
    """Where chunk generation and stage times are recorded (the worker's, served on its
    metrics port)."""
    whole_audio: threading.Lock = attrs.field(factory=threading.Lock)
    """Held while a stem is prepared or delivered, and while a profile is built (its references
    decoded whole: :mod:`~voxregen_worker.actors`): the worker's threads generate chunks side
    by side, but only one of them holds a whole recording's working copies (decode buffers,
    features, stitched, mastered and encoded samples) at a time, so a process's peak memory is
    what one thread's would be."""

    def render_job(self, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        """Start or resume the job and queue its missing chunks (module docstring)."""
        with structlog.contextvars.bound_contextvars(job_id=str(job_id), user_id=str(user_id)):
            self._render_job(user_id, job_id)

    def render_chunk(self, user_id: uuid.UUID, job_id: uuid.UUID, chunk_index: int) -> None:
        """Generate (or find) and record one chunk; deliver if it was the last one."""
        with structlog.contextvars.bound_contextvars(
            job_id=str(job_id), user_id=str(user_id), chunk_index=chunk_index
        ):
            self._render_chunk(user_id, job_id, chunk_index)

    def abandon(self, user_id: uuid.UUID, job_id: uuid.UUID, error: BaseException) -> None:
        """Fail the job after Dramatiq gave up on one of its messages (retries exhausted, a
        non-transient error, or the time limit), with the last error's code."""
        with structlog.contextvars.bound_contextvars(job_id=str(job_id), user_id=str(user_id)):
            job = self.service.jobs.get(user_id=user_id, job_id=job_id)
            if job is not None:
                self._fail(job, error_code(error), error_message(error))
                self.stems.drop(job_id)

    def _render_job(self, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        log = structlog.get_logger()
        job = self._unfinished(user_id, job_id)
        profile = None if job is None else self._usable_profile(job)
        if profile is None:
            return
        resumed = not _start(self.service, job)
        if resumed and self._unfinished(user_id, job_id, status=JobStatus.RUNNING) is None:
            return
        if not resumed:
            notify(self.service, job, WebhookEvent.STARTED)
        log.info("render_job_started", stage="start", resumed=resumed)
        started_at = self.service.clock.now()  # the job's runtime counts decode and features
        timer = StageTimer()
        prepared = self._prepare(job, timer=timer)  # never cached: its stages are timed
        if prepared is None:
            return
        self._report_stages(timer)
        # read again: the embedding the chunks pin is the newest, even if a rebuild landed
        # while the stem was prepared
        profile = self._usable_profile(job)
        if profile is None:
            return
        ledger = self._begin_chunks(
            job, prepared, profile, started_at=started_at, prepare_stage_ms=timer.stage_ms
        )
        if ledger is None:
            log.info("render_job_finished_elsewhere", stage="start")
        elif ledger.complete:
            prepared = self._released(job, prepared)
            self._deliver(job, prepared, profile, ledger)
        else:
            self._queue_chunks(job, ledger, ledger.missing())

    def _render_chunk(self, user_id: uuid.UUID, job_id: uuid.UUID, chunk_index: int) -> None:
        log = structlog.get_logger()
        job = self._unfinished(user_id, job_id, status=JobStatus.RUNNING)
        # the ledger before the profile: a pin that differs from the profile's is older
        ledger = None if job is None else self.service.jobs.ledger(user_id=user_id, job_id=job_id)
        profile = None if ledger is None else self._usable_profile(job)
        prepared = None if profile is None else self._prepare(job, cached=True)
        if prepared is None:
            return
        embedding_fingerprint = profile.embedding_fingerprint
        if ledger.embedding_fingerprint != embedding_fingerprint:
            ledger = self._begin_chunks(
                job,
                prepared,
                profile,
                started_at=self.service.clock.now(),
                prepare_stage_ms={},
            )
            if ledger is None:
                log.info("render_chunk_job_finished_elsewhere", stage="chunks")
                return
            log.info(
                "render_job_started_over",
                stage="chunks",
                reason="profile embedding changed",
                embedding_fingerprint=embedding_fingerprint,
            )
            self._queue_chunks(
                job, ledger, [index for index in ledger.missing() if index != chunk_index]
            )
        started = time.perf_counter()
        generated = store_chunk(
            job,
            prepared,
            chunk_index,
            profile=profile,
            store=self.service.store,
            generator=_Announced(self.generator, self.metrics),
        )
        recorded = self.service.jobs.record_chunk(
            user_id=user_id,
            job_id=job_id,
            chunk_index=chunk_index,
            generated=generated,
            embedding_fingerprint=embedding_fingerprint,
        )
        if recorded is None:
            log.info("render_chunk_job_finished_elsewhere", stage="chunks")
            if generated:  # stored after the delivery deleted the job's chunks: nothing reads it
                self._delete_chunks(job)
            return
        ledger, completed = recorded
        if ledger.embedding_fingerprint != embedding_fingerprint:
            # the chunks were started over on another embedding while this one was made
            log.info(
                "render_chunk_stale",
                stage="chunks",
                embedding_fingerprint=embedding_fingerprint,
                ledger_embedding_fingerprint=ledger.embedding_fingerprint,
            )
            self.service.queue.enqueue_render_chunk(
                user_id=user_id, job_id=job_id, chunk_index=chunk_index
            )
            return
        notify(self.service, job, WebhookEvent.PROGRESS)
        log.info(
            "render_chunk",
            stage="chunks",
            generated=generated,
            chunks_done=ledger.progress.chunks_done,
            chunks_total=ledger.chunks_total,
            elapsed_ms=ms_since(started),
        )
        if completed:
            prepared = self._released(job, prepared)
            self._deliver(job, prepared, profile, ledger)

    def _begin_chunks(
        self,
        job: RenderJob,
        prepared: PreparedStem,
        profile: SingerProfile,
        *,
        started_at: datetime,
        prepare_stage_ms: dict[str, float],
    ) -> ChunkLedger | None:
        """The job's ledger for an attempt with ``profile``'s embedding (started over if the
        ledger holds another); None if the job is no longer running."""
        return self.service.jobs.begin_chunks(
            user_id=job.user_id,
            job_id=job.id,
            input_hash=prepared.input_hash,
            stem_feature_cache_id=prepared.feature_cache_entry.id,
            chunks_total=prepared.plan.chunks_total,
            embedding_fingerprint=profile.embedding_fingerprint,
            started_at=started_at,
            feature_cache_hit=prepared.feature_cache_hit,
            prepare_stage_ms=prepare_stage_ms,
        )

    def _queue_chunks(self, job: RenderJob, ledger: ChunkLedger, indices: list[int]) -> None:
        for chunk_index in indices:
            self.service.queue.enqueue_render_chunk(
                user_id=job.user_id, job_id=job.id, chunk_index=chunk_index
            )
        structlog.get_logger().info(
            "render_job_fanned_out",
            stage="chunks",
            chunks_total=ledger.chunks_total,
            chunks_queued=len(indices),
            embedding_fingerprint=ledger.embedding_fingerprint,
        )

    def _deliver(
        self, job: RenderJob, prepared: PreparedStem, profile: SingerProfile, ledger: ChunkLedger
    ) -> None:
        """Stitch, master, upload, move the job to done and delete its chunks."""
        log = structlog.get_logger()
        timer = StageTimer()
        output_key = job_output_key(job.user_id, job.id)
        try:
            with self.whole_audio:
                delivery = deliver(
                    job,
                    prepared.plan,
                    input_hash=prepared.input_hash,
                    profile=profile,
                    store=self.service.store,
                    timer=timer,
                )
                self.service.store.put(output_key, delivery.output_wav)
                mastered = delivery.mastered
                del delivery  # the file's samples go before another stem's work may start
        except ChunkMissingError:
            if self._unfinished(job.user_id, job.id, status=JobStatus.RUNNING) is not None:
                raise
            # another delivery of the job won, and deleted the chunks this one was reading
            log.info("render_job_finished_elsewhere", stage="stitch")
            return
        timer.lap("upload")
        self._report_stages(timer)
        started_at = ledger.started_at or self.service.clock.now()
        metrics = render_metrics(
            prepared.plan,
            prepared.features,
            mastered,
            runtime_s=(self.service.clock.now() - started_at).total_seconds(),
            feature_cache_hit=bool(ledger.feature_cache_hit),
            chunks_reused=ledger.reused,
            stage_ms={**ledger.prepare_stage_ms, **timer.stage_ms},
        ).to_json()
        try:
            finished = self.service.jobs.transition(
                user_id=job.user_id,
                job_id=job.id,
                from_status=JobStatus.RUNNING,
                to_status=JobStatus.DONE,
                input_hash=prepared.input_hash,
                stem_feature_cache_id=prepared.feature_cache_entry.id,
                output_object_key=output_key,
                metrics=metrics,
            )
        except NotFoundError:
            if self.service.jobs.get(user_id=job.user_id, job_id=job.id) is not None:
                raise
            finished = False  # deleted meanwhile, and with it the features only it used
        self.stems.drop(job.id)
        log.info(
            "render_job_done" if finished else "render_job_finished_elsewhere",
            stage="done",
            chunks_total=metrics["chunks_total"],
            chunks_generated=ledger.generated,
            chunks_reused=metrics["chunks_reused"],
            feature_cache_hit=metrics["feature_cache_hit"],
            elapsed_ms=round(1000.0 * metrics["runtime_sec"], 1),
            rtf_estimate=metrics["rtf_estimate"],
            loudness_lufs=metrics["loudness_lufs"],
            true_peak_db=metrics["true_peak_db"],
        )
        if finished:
            self._delete_chunks(job)
            notify(self.service, job, WebhookEvent.COMPLETED)
        elif self._canceled_or_deleted(job):  # meanwhile: no output of it stays
            self.service.store.delete(output_key)
            self._delete_chunks(job)
            log.info("render_job_canceled", stage="done", output_deleted=True)

    def _released(self, job: RenderJob, prepared: PreparedStem) -> PreparedStem:
        """``prepared`` without its samples, and out of the stem cache: rebind the caller's name
        to it before delivering, so the samples' memory goes to the delivery's own arrays."""
        self.stems.drop(job.id)
        return prepared.without_audio()

    def _report_stages(self, timer: StageTimer) -> None:
        """One ``render_stage`` line per lap of ``timer``, each observed in the metrics."""
        log = structlog.get_logger()
        for stage, elapsed_ms in timer.stage_ms.items():
            log.info("render_stage", stage=stage, elapsed_ms=round(elapsed_ms, 1))
        self.metrics.observe_stages(timer.stage_ms)

    def _delete_chunks(self, job: RenderJob) -> None:
        """Delete the delivered job's chunk objects; a failure is logged, never raised (the
        job is done, and the storage lifecycle rule removes what is left)."""
        log = structlog.get_logger()
        prefix = chunks_prefix(job.user_id, job.id)
        try:
            keys = self.service.store.list(prefix)
        except (VoxregenError, OSError) as error:
            log.warning(
                "render_chunks_not_deleted", stage="cleanup", prefix=prefix, error=str(error)
            )
            return
        failed = 0
        for key in keys:
            try:
                self.service.store.delete(key)
            except (VoxregenError, OSError) as error:
                failed += 1
                log.warning("render_chunk_not_deleted", stage="cleanup", key=key, error=str(error))
        log.info("render_chunks_deleted", stage="cleanup", chunks_deleted=len(keys) - failed)

    def _canceled_or_deleted(self, job: RenderJob) -> bool:
        now = self.service.jobs.get(user_id=job.user_id, job_id=job.id)
        return now is None or now.status is JobStatus.CANCELED

    def _unfinished(
        self, user_id: uuid.UUID, job_id: uuid.UUID, *, status: JobStatus | None = None
    ) -> RenderJob | None:
        """The user's job if it is not finished (and is in ``status``, if given), else None."""
        job = self.service.jobs.get(user_id=user_id, job_id=job_id)
        if job is None:
            structlog.get_logger().warning("render_job_missing")
            return None
        wanted = (status,) if status else IN_FLIGHT
        if job.status not in wanted:
            structlog.get_logger().info("render_job_already_finished", status=job.status.value)
            return None
        return job

    def _usable_profile(self, job: RenderJob) -> SingerProfile | None:
        """The job's profile if a render may use it (ready, or rebuilding over a built
        embedding); else the job fails and None."""
        try:
            return usable_profile_for(self.service, job)
        except ProfileNotReadyError as error:
            self._fail(job, error.code, error.message)
            return None

    def _fail(self, job: RenderJob, code: str, message: str) -> None:
        """Fail the job (queued or running) and log it if this call did."""
        if fail_job(self.service, job, code=code, message=message):
            structlog.get_logger().warning("render_job_failed", error_code=code, error=message)

    def _prepare(
        self, job: RenderJob, *, timer: StageTimer | None = None, cached: bool = False
    ) -> PreparedStem | None:
        """The job's stem prepared now (and kept in this process's cache), or with ``cached``
        the one another thread put in the cache while this one waited for its turn; None (and
        the job failed) if its input cannot be rendered. A cached stem is taken without
        waiting for the lock, so a chunk never waits behind another thread's delivery."""
        if cached and (hit := self.stems.get(job.id)) is not None:
            return hit
        try:
            with self.whole_audio:
                prepared = self.stems.get(job.id) if cached else None
                if prepared is None:
                    prepared = prepare(
                        job,
                        read_input=lambda: read_opened_stem(
                            lambda: self.service.store.open(job.input_object_key)
                        ),
                        store=self.service.store,
                        feature_cache=self.service.feature_cache,
                        clock=self.service.clock,
                        timer=timer,
                    )
                    self.stems.put(job.id, prepared)
        except (InvalidInputError, ObjectNotFoundError) as error:
            self._fail(job, error.code, error.message)
            return None
        return prepared


@attrs.frozen
class _Announced:
    """The generator, logging ``render_chunk_generating`` as it starts on a chunk, so that a
    chunk lost with a killed worker shows in the logs, and timing each chunk it makes."""

    inner: Generator
    metrics: WorkerMetrics

    @property
    def device(self) -> Device:
        return self.inner.device

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        structlog.get_logger().info("render_chunk_generating", stage="chunks")
        started = time.perf_counter()
        audio = self.inner.generate_chunk(features, singer_profile, params)
        self.metrics.observe_chunk_generation(time.perf_counter() - started)
        return audio


def _start(service: Service, job: RenderJob) -> bool:
    """Move a queued job to running; False if it was not queued (then it is resumed)."""
    return job.status is JobStatus.QUEUED and service.jobs.transition(
        user_id=job.user_id,
        job_id=job.id,
        from_status=JobStatus.QUEUED,
        to_status=JobStatus.RUNNING,
    )
