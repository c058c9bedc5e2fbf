"""A worker's metrics, as a real Dramatiq worker records them over real PostgreSQL and Redis
(each test on a broker namespace of its own), read back with prometheus_client's parser: the
chunk generation histogram counts each chunk generated, the stages are timed, retries and
webhook outcomes are counted, the queue depth is read from Redis at each scrape (and a Redis
that is down does not fail the scrape); and the request id of a message is in every log line
its handling writes, chunk messages fanned out included."""

import contextlib
import http.server
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import attrs
import dramatiq
import httpx
import numpy as np
import pytest
import structlog
from dramatiq.brokers.redis import RedisBroker
from prometheus_client.exposition import generate_latest

from tests.fakes import InMemoryJobQueue
from tests.integration.worker_world import add_job, add_profile, make_service
from tests.scraped import Scrape
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_adapters.queue_depth import queue_depth
from voxregen_adapters.request_context import bound_request_id
from voxregen_adapters.service import Service
from voxregen_adapters.webhook_sender import UrllibWebhookSender
from voxregen_core.errors import DatabaseUnavailableError
from voxregen_core.generator import ChunkFeatures
from voxregen_core.jobs import JobStatus
from voxregen_core.messages import WebhookDeliveryMessage
from voxregen_core.params import RenderParams
from voxregen_core.profiles import SingerProfile
from voxregen_core.stub_generator import StubGenerator
from voxregen_core.webhooks import WebhookTarget
from voxregen_worker.actors import RetryPolicy, declare_actors
from voxregen_worker.metrics import WorkerMetrics, serve_metrics
from voxregen_worker.render_job import Renderer
from voxregen_worker.webhook_delivery import deliver_webhook

USER = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
CHUNKS = 3  # worker_world's stem
STAGES = {"decode", "features", "stitch", "master", "export", "upload"}
FAST_RETRIES = RetryPolicy(max_retries=3, min_backoff_ms=10, max_backoff_ms=50)


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield service
    service.close()


def _scrape(metrics: WorkerMetrics) -> Scrape:
    return Scrape.parse(generate_latest(metrics.registry).decode())


def _wait_for(condition: Callable[[], bool], *, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@contextlib.contextmanager
def _worker(
    broker: RedisBroker, service: Service, metrics: WorkerMetrics, generator=None
) -> Iterator[None]:
    """A real Dramatiq worker thread on ``broker`` recording into ``metrics``."""
    service = attrs.evolve(service, queue=DramatiqJobQueue(broker))
    renderer = Renderer(service, generator or StubGenerator(), metrics=metrics)
    declare_actors(broker, service, renderer, policy=FAST_RETRIES)
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        yield
    finally:
        worker.stop()


@contextlib.contextmanager
def _log_lines_with_context() -> Iterator[list[dict]]:
    """Every log line written in the block, with the context variables merged in (as the
    processes' JSON lines have them; structlog's ``capture_logs`` leaves them out)."""
    previous = structlog.get_config()
    captured = structlog.testing.LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, captured])
    try:
        yield captured.entries
    finally:
        structlog.configure(**previous)


def _done(service: Service, job_id: uuid.UUID) -> bool:
    return service.jobs.get(user_id=USER, job_id=job_id).status is JobStatus.DONE


def test_a_render_records_each_chunk_generated_and_each_stage(broker, service):
    job = add_job(service, add_profile(service, USER))
    metrics = WorkerMetrics()
    assert _scrape(metrics).value("voxregen_chunk_generation_seconds_count") == 0
    with _worker(broker, service, metrics):
        DramatiqJobQueue(broker).enqueue_render_job(user_id=USER, job_id=job.id)
        _wait_for(lambda: _done(service, job.id))
    scraped = _scrape(metrics)
    assert scraped.types["voxregen_chunk_generation_seconds"] == "histogram"
    assert scraped.value("voxregen_chunk_generation_seconds_count") == CHUNKS
    assert scraped.value("voxregen_chunk_generation_seconds_sum") > 0
    staged = {labels["stage"] for labels in scraped.labelled("voxregen_render_stage_seconds_count")}
    assert staged == STAGES
    for stage in STAGES:
        assert scraped.value("voxregen_render_stage_seconds_count", stage=stage) == 1
    stage_ms = service.jobs.get(user_id=USER, job_id=job.id).metrics["stage_ms"]
    # the job's metrics hold the same laps, rounded to 0.1 ms
    assert scraped.value("voxregen_render_stage_seconds_sum", stage="stitch") == pytest.approx(
        stage_ms["stitch"] / 1000.0, abs=1e-4
    )


class _FailsFirst:
    """The stub generator, but the first call on chunk ``index`` raises a transient error
    (the database dropped mid-chunk): Dramatiq retries the chunk's message."""

    def __init__(self, index: int) -> None:
        self.inner = StubGenerator()
        self.index = index
        self.failed = threading.Event()

    @property
    def device(self):
        return self.inner.device

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        if features.chunk_index == self.index and not self.failed.is_set():
            self.failed.set()
            raise DatabaseUnavailableError("connection lost")
        return self.inner.generate_chunk(features, singer_profile, params)


def test_a_retry_is_counted_by_actor_and_a_failed_generation_is_not_a_chunk(broker, service):
    job = add_job(service, add_profile(service, USER))
    metrics = WorkerMetrics()
    with _worker(broker, service, metrics, generator=_FailsFirst(index=1)):
        DramatiqJobQueue(broker).enqueue_render_job(user_id=USER, job_id=job.id)
        _wait_for(lambda: _done(service, job.id))
    scraped = _scrape(metrics)
    retries = {
        labels["actor"]: scraped.value("voxregen_worker_retries_total", **labels)
        for labels in scraped.labelled("voxregen_worker_retries_total")
    }
    assert retries == {"profile_build": 0, "render_job": 0, "render_chunk": 1, "webhook": 0}
    assert scraped.value("voxregen_chunk_generation_seconds_count") == CHUNKS


def test_the_request_id_of_a_job_is_in_every_line_of_its_handling_chunks_included(broker, service):
    job = add_job(service, add_profile(service, USER))
    with _log_lines_with_context() as lines, _worker(broker, service, WorkerMetrics()):
        with bound_request_id("create-req-1"):
            DramatiqJobQueue(broker).enqueue_render_job(user_id=USER, job_id=job.id)
        _wait_for(lambda: _done(service, job.id))
        broker.join("default", timeout=30_000)
    of_job = [line for line in lines if line.get("job_id") == str(job.id)]
    events = {line["event"] for line in of_job}
    assert {"render_job_started", "render_chunk", "render_job_done"} <= events
    assert len([line for line in of_job if line["event"] == "render_chunk"]) == CHUNKS
    assert {line.get("request_id") for line in of_job} == {"create-req-1"}


@contextlib.contextmanager
def _receiver(statuses: list[int]) -> Iterator[str]:
    """A webhook receiver on loopback answering ``statuses`` in turn; its URL."""
    answers = iter(statuses)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(next(answers))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def test_webhook_attempts_are_counted_by_event_and_outcome(service):
    schedule = attrs.evolve(service.settings.webhooks, retry_schedule_s=(0.1,))
    queue = InMemoryJobQueue()
    local = attrs.evolve(
        service,
        settings=attrs.evolve(service.settings, webhooks=schedule),
        webhook_sender=UrllibWebhookSender(allow_private_networks=True, timeout_s=2.0),
        queue=queue,
    )
    metrics = WorkerMetrics()
    with _receiver([500, 503, 200]) as url:
        job = add_job(local, add_profile(local, USER))
        job = local.jobs.add(attrs.evolve(job, id=uuid.uuid4(), webhook=WebhookTarget(url=url)))
        first = WebhookDeliveryMessage(
            user_id=USER, job_id=job.id, event="completed", webhook_id="msg_" + "c" * 32
        )
        deliver_webhook(local, first, metrics=metrics)  # 500, retried
        (retry,) = queue.of_type(WebhookDeliveryMessage)
        deliver_webhook(local, retry, metrics=metrics)  # 503, the schedule is spent
        started = WebhookDeliveryMessage(
            user_id=USER, job_id=job.id, event="started", webhook_id="msg_" + "d" * 32
        )
        deliver_webhook(local, started, metrics=metrics)  # 200
        gone = attrs.evolve(started, job_id=uuid.uuid4())
        deliver_webhook(local, gone, metrics=metrics)  # no such job: not sent
    scraped = _scrape(metrics)
    counted = {
        (labels["event"], labels["outcome"]): value
        for (name, label_set), value in scraped.samples.items()
        if name == "voxregen_webhook_deliveries_total"
        for labels in [dict(label_set)]
        if value
    }
    assert counted == {
        ("completed", "retrying"): 1,
        ("completed", "failed"): 1,
        ("started", "delivered"): 1,
        ("started", "skipped"): 1,
    }
    # every event and outcome is reported from the start, at 0, so a rate always has a series
    assert len(scraped.labelled("voxregen_webhook_deliveries_total")) == 3 * 4


def _free_port() -> int:
    with socket.create_server(("0.0.0.0", 0)) as probe:
        return probe.getsockname()[1]


def test_the_metrics_port_serves_the_queue_depth_read_at_each_scrape(broker):
    metrics = WorkerMetrics(queue_depth=lambda: queue_depth(broker))
    port = _free_port()
    stop = serve_metrics(metrics, port)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        before = Scrape.parse(httpx.get(url, timeout=5).text)
        job_queue = DramatiqJobQueue(broker)
        for index in range(3):
            job_queue.enqueue_render_chunk(user_id=USER, job_id=USER, chunk_index=index)
        after = Scrape.parse(httpx.get(url, timeout=5).text)
    finally:
        stop()
    assert before.value("voxregen_queue_depth", state="queued") == 0
    assert after.value("voxregen_queue_depth", state="queued") == 3
    assert {labels["state"] for labels in after.labelled("voxregen_queue_depth")} == {
        "queued",
        "in_hand",
        "delayed",
        "dead",
    }
    assert after.value("voxregen_queue_depth_up") == 1
    with socket.create_server(("0.0.0.0", port)):  # stopped: the port is free again
        pass


def test_a_scrape_with_redis_down_still_answers_and_says_so():
    down = make_broker("unix:///nonexistent/voxregen-test/redis.sock")
    metrics = WorkerMetrics(queue_depth=lambda: queue_depth(down))
    metrics.observe_chunk_generation(0.5)
    with structlog.testing.capture_logs() as logs:
        scraped = _scrape(metrics)
    assert scraped.value("voxregen_queue_depth_up") == 0
    assert scraped.labelled("voxregen_queue_depth") == []
    assert scraped.value("voxregen_chunk_generation_seconds_count") == 1
    (line,) = [entry for entry in logs if entry["event"] == "metrics_source_unavailable"]
    assert (line["metric"], line["source"]) == ("voxregen_queue_depth", "redis")
    assert line["error"].startswith("QueueUnavailableError: cannot read the queue's depth")
