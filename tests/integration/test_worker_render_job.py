"""The render_job actor's work over real PostgreSQL and a local object store: the happy path
with its logs, metrics and the chunks deleted once delivered, redelivery, resume after a
crash, invalid input, a profile that is not ready, clones reusing the feature cache, and
giving up."""

import concurrent.futures
import io
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import attrs
import numpy as np
import pytest
import soundfile as sf
import structlog

from tests.fakes import InMemoryJobQueue
from tests.integration.worker_world import (
    STEM_S,
    SpyingStore,
    add_job,
    add_profile,
    count_rows,
    job_error,
    make_service,
    render_to_end,
)
from voxregen_adapters.db import tables
from voxregen_adapters.service import Service
from voxregen_core.errors import StorageUnavailableError
from voxregen_core.jobs import JobStatus, Progress
from voxregen_core.keys import chunk_key, chunks_prefix, job_output_key
from voxregen_core.messages import RenderChunkMessage
from voxregen_core.params import RenderParams, Style
from voxregen_core.profiles import ProfileStatus
from voxregen_core.stub_generator import StubGenerator
from voxregen_core.use_cases.render_jobs import cancel_job, delete_job
from voxregen_worker import render_job as render_job_module
from voxregen_worker.render_job import Renderer

USER = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
CHUNKS_TOTAL = 3


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield service
    service.close()


class Crash(Exception):
    """A worker dying in the middle of a chunk."""


def _dies_stitching(*args, **kwargs):
    """``deliver``, in a worker killed while it stitches."""
    raise Crash("killed while stitching")


class CrashingAt(StubGenerator):
    def __init__(self, chunk_index: int) -> None:
        super().__init__()
        self._chunk_index = chunk_index

    def generate_chunk(self, features, singer_profile, params):
        if features.chunk_index == self._chunk_index:
            raise Crash(f"killed while generating chunk {features.chunk_index}")
        return super().generate_chunk(features, singer_profile, params)


def test_a_job_renders_to_done_with_its_output_progress_metrics_and_logs(service):
    job = add_job(service, add_profile(service, USER))
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        render_to_end(service, USER, job.id)

    done = service.jobs.get(user_id=USER, job_id=job.id)
    assert done.status is JobStatus.DONE
    assert done.progress == Progress(chunks_done=CHUNKS_TOTAL, chunks_total=CHUNKS_TOTAL)
    assert done.output_object_key == job_output_key(USER, job.id)
    assert done.input_hash is not None and done.stem_feature_cache_id is not None
    metrics = done.metrics
    assert metrics["chunks_total"] == CHUNKS_TOTAL
    assert metrics["chunks_reused"] == 0 and metrics["feature_cache_hit"] is False
    assert abs(metrics["loudness_lufs"] - (-18.0)) <= 0.5 and metrics["true_peak_db"] <= -1.0
    assert set(metrics["stage_ms"]) == {
        *("decode", "features"),  # in the process that started the job, kept in its ledger
        *("stitch", "master", "export", "upload"),  # in the one that delivered it
    }

    audio, rate_hz = sf.read(io.BytesIO(service.store.get(done.output_object_key)), dtype="int16")
    assert rate_hz == 48_000 and audio.shape == (int(STEM_S * 48_000), 2)
    assert np.array_equal(audio[:, 0], audio[:, 1])
    assert service.store.list(chunks_prefix(USER, job.id)) == []  # delivered: chunks deleted

    assert all(line["job_id"] == str(job.id) and line["user_id"] == str(USER) for line in logs)
    chunk_lines = [line for line in logs if line["event"] == "render_chunk"]
    assert [line["chunk_index"] for line in chunk_lines] == list(range(CHUNKS_TOTAL))
    stage_lines = [line for line in logs if line["event"] == "render_stage"]
    assert sorted(line["stage"] for line in stage_lines) == sorted(metrics["stage_ms"])
    (summary,) = [line for line in logs if line["event"] == "render_job_done"]
    assert summary["chunks_total"] == CHUNKS_TOTAL and summary["elapsed_ms"] > 0
    (cleanup,) = [line for line in logs if line["event"] == "render_chunks_deleted"]
    assert cleanup["chunks_deleted"] == CHUNKS_TOTAL
    assert all(line["elapsed_ms"] >= 0 for line in chunk_lines + stage_lines)


def test_a_redelivered_message_for_a_done_job_changes_nothing(service):
    job = add_job(service, add_profile(service, USER))
    render_to_end(service, USER, job.id)
    done = service.jobs.get(user_id=USER, job_id=job.id)
    output = service.store.get(done.output_object_key)
    rows = count_rows(service, tables.stem_feature_cache)

    render_to_end(service, USER, job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id) == done
    assert service.store.get(done.output_object_key) == output
    assert count_rows(service, tables.stem_feature_cache) == rows == 1


def test_a_job_killed_mid_render_resumes_regenerating_only_the_missing_chunks(service):
    job = add_job(service, add_profile(service, USER))
    with pytest.raises(Crash, match="killed while generating chunk 2"):
        render_to_end(service, USER, job.id, generator=CrashingAt(2))
    crashed = service.jobs.get(user_id=USER, job_id=job.id)
    assert crashed.status is JobStatus.RUNNING
    assert crashed.progress == Progress(chunks_done=2, chunks_total=CHUNKS_TOTAL)
    store = SpyingStore(service.store)

    # the job's message, redelivered
    renderer = render_to_end(attrs.evolve(service, store=store), USER, job.id)

    resumed = service.jobs.get(user_id=USER, job_id=job.id)
    assert resumed.status is JobStatus.DONE
    queued = [chunk.chunk_index for chunk in renderer.service.queue.of_type(RenderChunkMessage)]
    assert queued == [2]  # the stored and recorded chunks are not queued again
    assert service.jobs.ledger(user_id=USER, job_id=job.id).generated == CHUNKS_TOTAL
    assert resumed.metrics["feature_cache_hit"] is False  # the first attempt extracted them
    assert [key for key in store.puts if "/chunks/" in key] == [chunk_key(USER, job.id, 2)]
    assert count_rows(service, tables.stem_feature_cache) == 1

    uninterrupted = add_job(service, add_profile(service, USER))
    render_to_end(service, USER, uninterrupted.id)
    # same input and params, another job id (other seeds): same length, same loudness
    again = service.jobs.get(user_id=USER, job_id=uninterrupted.id).metrics
    assert again["chunks_total"] == resumed.metrics["chunks_total"]
    assert abs(again["loudness_lufs"] - resumed.metrics["loudness_lufs"]) < 0.1


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"not audio at all", "not_a_wav", "not a WAV"),
        (None, "object_not_found", "input.wav"),
    ],
    ids=["not_a_wav", "input_missing"],
)
def test_invalid_input_fails_the_job_at_once_with_its_code(service, data, code, message):
    job = add_job(service, add_profile(service, USER), data=data)
    render_to_end(service, USER, job.id)
    failed = service.jobs.get(user_id=USER, job_id=job.id)
    assert failed.status is JobStatus.FAILED and failed.output_object_key is None
    error_code, error_message = job_error(service, job)
    assert error_code == code and message in error_message
    assert service.store.list(chunks_prefix(USER, job.id)) == []


def test_a_job_whose_profile_is_not_ready_fails_with_profile_not_ready(service):
    job = add_job(service, add_profile(service, USER, status=ProfileStatus.BUILDING))
    render_to_end(service, USER, job.id)
    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.FAILED
    code, message = job_error(service, job)
    assert code == "profile_not_ready" and message.endswith("is building and not built yet")


def test_a_clone_reuses_the_feature_cache_row_and_blob(service, tmp_path):
    profile = add_profile(service, USER)
    original = add_job(service, profile)
    render_to_end(service, USER, original.id)
    cache_dir = tmp_path / "users" / str(USER) / "feature-cache"
    blobs = sorted(cache_dir.rglob("*.bin"))

    clone = add_job(
        service,
        profile,
        data=None,
        input_object_key=original.input_object_key,
        params=RenderParams(style=Style.BRIGHT, intensity=0.9),
    )
    render_to_end(service, USER, clone.id)

    done = service.jobs.get(user_id=USER, job_id=clone.id)
    assert done.status is JobStatus.DONE
    assert done.metrics["feature_cache_hit"] is True and done.metrics["chunks_reused"] == 0
    first = service.jobs.get(user_id=USER, job_id=original.id)
    assert done.stem_feature_cache_id == first.stem_feature_cache_id
    assert count_rows(service, tables.stem_feature_cache) == 1
    assert sorted(cache_dir.rglob("*.bin")) == blobs and len(blobs) == 1


def test_another_users_job_id_is_left_alone(service):
    job = add_job(service, add_profile(service, USER))
    render_to_end(service, uuid.uuid4(), job.id)
    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.QUEUED


def test_giving_up_fails_a_running_job_with_the_last_errors_code(service):
    job = add_job(service, add_profile(service, USER))
    with pytest.raises(Crash, match="chunk 0"):
        render_to_end(service, USER, job.id, generator=CrashingAt(0))

    Renderer(service, StubGenerator()).abandon(
        USER, job.id, StorageUnavailableError("storage is down")
    )

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.FAILED
    assert job_error(service, job) == (
        "storage_unavailable",
        "gave up after retrying: storage is down",
    )


def test_the_job_fans_out_one_message_per_chunk_and_the_last_one_recorded_delivers_once(service):
    job = add_job(service, add_profile(service, USER))
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        renderer = render_to_end(service, USER, job.id, chunk_order=[2, 0, 1])
        output = service.store.get(job_output_key(USER, job.id))
        # the same chunk messages delivered again, and the job's own message: nothing changes
        for chunk in renderer.service.queue.of_type(RenderChunkMessage):
            renderer.render_chunk(USER, job.id, chunk.chunk_index)
        renderer.render_job(USER, job.id)

    assert renderer.service.queue.of_type(RenderChunkMessage) == [
        RenderChunkMessage(user_id=USER, job_id=job.id, chunk_index=index)
        for index in range(CHUNKS_TOTAL)
    ]
    (done,) = [line for line in logs if line["event"] == "render_job_done"]
    assert done["chunk_index"] == 1  # the last chunk recorded delivered
    assert service.store.get(job_output_key(USER, job.id)) == output
    ledger = service.jobs.ledger(user_id=USER, job_id=job.id)
    assert ledger.generated == CHUNKS_TOTAL  # the duplicates found their chunks stored


def test_a_job_whose_chunks_are_all_recorded_is_delivered_by_its_resumed_message(
    service, monkeypatch
):
    """The worker that recorded the last chunk died while delivering: the job's own message,
    queued again (by the sweeper), delivers without regenerating anything."""
    job = add_job(service, add_profile(service, USER))

    with monkeypatch.context() as patch:
        patch.setattr(render_job_module, "deliver", _dies_stitching)
        with pytest.raises(Crash, match="stitching"):
            render_to_end(service, USER, job.id)
    assert service.jobs.ledger(user_id=USER, job_id=job.id).complete
    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.RUNNING

    renderer = render_to_end(service, USER, job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    assert not renderer.service.queue.of_type(RenderChunkMessage)
    assert service.jobs.ledger(user_id=USER, job_id=job.id).generated == CHUNKS_TOTAL


class _StoppedClock:
    """The service's clock, moved only by the test."""

    def __init__(self) -> None:
        self.now_at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.now_at


def test_the_runtime_counts_the_jobs_decoding_and_features_from_when_it_started_running(service):
    job = add_job(service, add_profile(service, USER))
    clock, store = _StoppedClock(), SpyingStore(service.store)

    def slow_read(key: str) -> None:
        if key == job.input_object_key:
            clock.now_at += timedelta(seconds=90)  # reading and decoding the stem takes 90 s

    store.on_get = slow_read
    render_to_end(attrs.evolve(service, store=store, clock=clock), USER, job.id)

    metrics = service.jobs.get(user_id=USER, job_id=job.id).metrics
    assert metrics["runtime_sec"] == 90.0  # nothing else moved the clock
    assert metrics["rtf_estimate"] == round(90.0 / STEM_S, 4)
    assert metrics["stage_ms"]["decode"] > 0 and metrics["stage_ms"]["features"] > 0


def test_a_chunk_the_store_cannot_delete_leaves_the_job_done_and_is_logged(service):
    job = add_job(service, add_profile(service, USER))
    store = SpyingStore(service.store)
    store.delete_error = StorageUnavailableError("storage is down")
    with structlog.testing.capture_logs() as logs:
        render_to_end(attrs.evolve(service, store=store), USER, job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    assert len(service.store.list(chunks_prefix(USER, job.id))) == CHUNKS_TOTAL  # for lifecycle
    warnings = [line for line in logs if line["event"] == "render_chunk_not_deleted"]
    assert [line["key"] for line in warnings] == [
        chunk_key(USER, job.id, i) for i in range(CHUNKS_TOTAL)
    ]
    assert all(line["error"] == "storage is down" for line in warnings)


def test_a_second_delivery_whose_chunks_the_first_deleted_ends_quietly(service, monkeypatch):
    """Two workers deliver one job at once (the last chunk's worker seemed dead and the sweeper
    queued the job again): the first to finish deletes the chunks the other is stitching."""
    job = add_job(service, add_profile(service, USER))
    with monkeypatch.context() as patch:
        patch.setattr(render_job_module, "deliver", _dies_stitching)
        with pytest.raises(Crash, match="stitching"):
            render_to_end(service, USER, job.id)
    store = SpyingStore(service.store)

    def the_other_delivers_first(key: str) -> None:
        if key == chunk_key(USER, job.id, 1):
            store.on_get = None
            render_to_end(service, USER, job.id)

    store.on_get = the_other_delivers_first
    with structlog.testing.capture_logs() as logs:
        render_to_end(attrs.evolve(service, store=store), USER, job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    events = [(line["event"], line.get("stage")) for line in logs]
    assert events.count(("render_job_done", "done")) == 1
    assert events[-1] == ("render_job_finished_elsewhere", "stitch")


class _AnotherWorkerDeliversMeanwhile(StubGenerator):
    """Generates chunk 1 slowly: while it does, another worker makes chunks 1 and 2 and
    delivers the job (a message redelivered after a worker seemed dead)."""

    def __init__(self, deliver_meanwhile) -> None:
        super().__init__()
        self.deliver_meanwhile = deliver_meanwhile

    def generate_chunk(self, features, singer_profile, params):
        if features.chunk_index == 1 and self.deliver_meanwhile is not None:
            deliver, self.deliver_meanwhile = self.deliver_meanwhile, None
            deliver()
        return super().generate_chunk(features, singer_profile, params)


def test_a_chunk_stored_after_its_job_was_delivered_is_deleted_too(service):
    job = add_job(service, add_profile(service, USER))
    queue = InMemoryJobQueue()

    def other_worker() -> None:
        for chunk_index in (1, 2):
            renderer.render_chunk(USER, job.id, chunk_index)

    generator = _AnotherWorkerDeliversMeanwhile(other_worker)
    renderer = Renderer(attrs.evolve(service, queue=queue), generator)
    renderer.render_job(USER, job.id)
    renderer.render_chunk(USER, job.id, 0)
    with structlog.testing.capture_logs() as logs:
        renderer.render_chunk(USER, job.id, 1)  # done meanwhile: this chunk is stored last

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    assert service.store.list(chunks_prefix(USER, job.id)) == []
    assert "render_chunk_job_finished_elsewhere" in [line["event"] for line in logs]


def _cancel(service: Service, job_id: uuid.UUID) -> None:
    """What ``POST /v1/render-jobs/{id}:cancel`` does (voxregen_core.use_cases.render_jobs)."""
    canceled = cancel_job(service, user_id=USER, job_id=job_id)
    assert canceled.status is JobStatus.CANCELED


def test_the_chunk_messages_of_a_job_canceled_midway_do_nothing(service):
    job = add_job(service, add_profile(service, USER))
    queue = InMemoryJobQueue()
    renderer = Renderer(attrs.evolve(service, queue=queue), StubGenerator())
    renderer.render_job(USER, job.id)
    renderer.render_chunk(USER, job.id, 0)
    assert service.store.list(chunks_prefix(USER, job.id))  # one chunk stored

    _cancel(service, job.id)
    assert service.store.list(chunks_prefix(USER, job.id)) == []  # the cancel deleted it
    for chunk in queue.of_type(RenderChunkMessage):
        renderer.render_chunk(USER, job.id, chunk.chunk_index)
    renderer.render_job(USER, job.id)  # a redelivered job message too

    canceled = service.jobs.get(user_id=USER, job_id=job.id)
    assert canceled.status is JobStatus.CANCELED and canceled.output_object_key is None
    assert canceled.progress.chunks_done == 1  # no chunk recorded after the cancel
    assert service.store.list(chunks_prefix(USER, job.id)) == []
    assert not service.store.exists(job_output_key(USER, job.id))


class _CanceledWhileGenerating(StubGenerator):
    """A chunk that takes long enough for the producer to cancel its job meanwhile."""

    def __init__(self, cancel: Callable[[], None], chunk_index: int) -> None:
        super().__init__()
        self._cancel, self._chunk_index = cancel, chunk_index

    def generate_chunk(self, features, singer_profile, params):
        if features.chunk_index == self._chunk_index:
            self._cancel()
        return super().generate_chunk(features, singer_profile, params)


def test_a_chunk_generated_while_its_job_was_canceled_is_deleted(service):
    job = add_job(service, add_profile(service, USER))
    generator = _CanceledWhileGenerating(lambda: _cancel(service, job.id), chunk_index=1)
    renderer = Renderer(attrs.evolve(service, queue=InMemoryJobQueue()), generator)
    renderer.render_job(USER, job.id)
    renderer.render_chunk(USER, job.id, 0)
    with structlog.testing.capture_logs() as logs:
        renderer.render_chunk(USER, job.id, 1)  # stored after the cancel deleted the chunks

    assert service.store.list(chunks_prefix(USER, job.id)) == []
    assert "render_chunk_job_finished_elsewhere" in [line["event"] for line in logs]
    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.CANCELED


def test_a_job_canceled_while_it_is_delivered_keeps_no_output(service, monkeypatch):
    """The delivery uploads the output, then its ``running → done`` move finds the job
    canceled: the output and the chunks are deleted, the job stays canceled."""
    job = add_job(service, add_profile(service, USER))
    delivered = render_job_module.deliver

    def canceled_meanwhile(*args, **kwargs):
        delivery = delivered(*args, **kwargs)
        _cancel(service, job.id)
        return delivery

    monkeypatch.setattr(render_job_module, "deliver", canceled_meanwhile)
    with structlog.testing.capture_logs() as logs:
        render_to_end(service, USER, job.id)

    canceled = service.jobs.get(user_id=USER, job_id=job.id)
    assert canceled.status is JobStatus.CANCELED and canceled.output_object_key is None
    assert not service.store.exists(job_output_key(USER, job.id))
    assert service.store.list(chunks_prefix(USER, job.id)) == []
    assert {"event": "render_job_canceled", "stage": "done", "output_deleted": True} in [
        {k: line[k] for k in ("event", "stage", "output_deleted") if k in line} for line in logs
    ]


def test_a_job_deleted_while_it_is_delivered_leaves_no_object(service, monkeypatch):
    job = add_job(service, add_profile(service, USER))
    delivered = render_job_module.deliver

    def deleted_meanwhile(*args, **kwargs):
        delivery = delivered(*args, **kwargs)
        delete_job(service, user_id=USER, job_id=job.id)
        return delivery

    monkeypatch.setattr(render_job_module, "deliver", deleted_meanwhile)
    render_to_end(service, USER, job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id) is None
    assert service.store.list(f"users/{USER}/jobs/") == []


@pytest.mark.parametrize("first_holds", ["preparation", "delivery"])
def test_a_workers_second_thread_does_not_prepare_a_stem_while_the_first_holds_one(
    service, first_holds
):
    """Two threads of one worker: while one prepares or delivers job A (held inside its read
    of A's input, or of A's first chunk for stitching), the other, starting job B, does not get
    as far as reading B's input until A's is done with: a process holds one stem's working
    copies at a time."""
    profile = add_profile(service, USER)
    job_a, job_b = add_job(service, profile), add_job(service, profile)
    store, queue = SpyingStore(service.store), InMemoryJobQueue()
    renderer = Renderer(attrs.evolve(service, store=store, queue=queue), StubGenerator())

    def chunks_of(job_id: uuid.UUID) -> list[int]:
        return [m.chunk_index for m in queue.of_type(RenderChunkMessage) if m.job_id == job_id]

    if first_holds == "delivery":  # A prepared and all but its last chunk made, in this thread
        renderer.render_job(USER, job_a.id)
        for chunk_index in chunks_of(job_a.id)[:-1]:
            renderer.render_chunk(USER, job_a.id, chunk_index)
    holding_key = (
        job_a.input_object_key if first_holds == "preparation" else chunk_key(USER, job_a.id, 0)
    )
    holding, release, b_read = threading.Event(), threading.Event(), threading.Event()

    def watch(key: str) -> None:
        if key == holding_key and not holding.is_set():
            holding.set()
            assert release.wait(timeout=30.0)
        elif key == job_b.input_object_key:
            b_read.set()

    store.on_get = watch

    def first() -> None:
        if first_holds == "preparation":
            renderer.render_job(USER, job_a.id)
        else:
            renderer.render_chunk(USER, job_a.id, chunks_of(job_a.id)[-1])

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        a_done = pool.submit(first)
        assert holding.wait(timeout=30.0)
        b_done = pool.submit(renderer.render_job, USER, job_b.id)
        read_beside = b_read.wait(timeout=1.0)  # unserialized, B reads its input at once
        release.set()
        a_done.result(timeout=60.0)
        b_done.result(timeout=60.0)

    assert not read_beside, f"B's input was read while A's {first_holds} held its stem"
    assert b_read.is_set()  # once A's was done with, B was prepared
    store.on_get = None
    for job in (job_a, job_b):
        for chunk_index in chunks_of(job.id):
            renderer.render_chunk(USER, job.id, chunk_index)
        assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE


@pytest.mark.parametrize("delivered_by", ["the last chunk", "the job's resumed message"])
def test_a_delivery_starts_once_the_stems_samples_are_freed(service, monkeypatch, delivered_by):
    """A delivery reads the stored chunks, not the decoded stem (92 MB for 8 minutes): the
    worker lets the samples go first, so that stitching and mastering have their memory."""
    job = add_job(service, add_profile(service, USER))
    real_prepare, real_deliver = render_job_module.prepare, render_job_module.deliver
    decoded: list[weakref.ref] = []
    alive_at_delivery: list[list[bool]] = []

    def prepare(*args, **kwargs):
        prepared = real_prepare(*args, **kwargs)
        decoded.append(weakref.ref(prepared.stem.audio))
        return prepared

    def deliver(*args, **kwargs):
        alive_at_delivery.append([ref() is not None for ref in decoded])
        return real_deliver(*args, **kwargs)

    if delivered_by == "the job's resumed message":  # its chunks all stored, then a crash
        with monkeypatch.context() as patch:
            patch.setattr(render_job_module, "deliver", _dies_stitching)
            with pytest.raises(Crash, match="stitching"):
                render_to_end(service, USER, job.id)
    monkeypatch.setattr(render_job_module, "prepare", prepare)
    monkeypatch.setattr(render_job_module, "deliver", deliver)
    render_to_end(service, USER, job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    assert len(decoded) == 1
    assert alive_at_delivery == [[False]]
