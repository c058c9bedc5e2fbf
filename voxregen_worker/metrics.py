"""A worker process's Prometheus metrics, on a registry of its own, served on
``VOXREGEN_WORKER_METRICS_PORT`` (:func:`serve_metrics`) when it is set; docs/operations.md
says what each means and what to alert on.

- ``voxregen_chunk_generation_seconds``: wall time of each chunk the generator made (a
  histogram; chunks found already stored are not generated, and not counted).
- ``voxregen_render_stage_seconds{stage}``: each timed render stage of a job (``decode``,
  ``features``; ``stitch``, ``master``, ``export``, ``upload``), from the core's stage timer.
- ``voxregen_queue_depth{state}``: the job queue's messages ``queued``, ``in_hand``,
  ``delayed`` and ``dead``, read from Redis at each scrape, and ``voxregen_queue_depth_up``.
- ``voxregen_worker_retries_total{actor}``: messages queued again after a transient failure.
- ``voxregen_webhook_deliveries_total{event, outcome}``: webhook attempts, by
  :class:`WebhookOutcome`.
- ``process_*``: the process's CPU, memory and open files.

Several workers on one host (``voxregen serve --workers N``) each serve their own port (the
base port plus the worker's index), so each is one Prometheus target with plain in-process
metrics: no shared multiprocess files to clean up when a worker is killed and restarted.
"""

import enum
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import start_http_server

from voxregen_adapters.dramatiq_job_queue import ACTOR_NAMES
from voxregen_adapters.queue_depth import QueueDepth
from voxregen_adapters.scrape_time_gauge import ScrapeTimeGauge
from voxregen_core.errors import ConfigError
from voxregen_core.webhooks import WebhookEvent

SECONDS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""From the stub's tens of milliseconds a chunk to minutes (a model on a CPU, an 8-minute
stem's features)."""
METRICS_ADDRESS = "0.0.0.0"
"""The metrics port listens on every interface, for a Prometheus on another host."""


class WebhookOutcome(enum.StrEnum):
    """What became of one webhook delivery attempt."""

    DELIVERED = "delivered"
    """The target answered 2xx."""
    RETRYING = "retrying"
    """It failed, and another attempt is queued on the retry schedule."""
    FAILED = "failed"
    """It failed and is given up: a 410, or the retry schedule is spent."""
    SKIPPED = "skipped"
    """Not sent: the job or its webhook is gone, or a progress notice came within the
    interval of the last one."""


class WorkerMetrics:
    """The worker's metrics (module docstring); the queue's depth through ``queue_depth``, if
    given."""

    def __init__(self, *, queue_depth: Callable[[], QueueDepth] | None = None) -> None:
        self.registry = CollectorRegistry()
        self._chunk_generation = Histogram(
            "voxregen_chunk_generation_seconds",
            "Wall time of one chunk's generation by the generator",
            buckets=SECONDS_BUCKETS,
            registry=self.registry,
        )
        self._stages = Histogram(
            "voxregen_render_stage_seconds",
            "Wall time of one render stage of a job, by stage",
            ["stage"],
            buckets=SECONDS_BUCKETS,
            registry=self.registry,
        )
        self._retries = Counter(
            "voxregen_worker_retries",
            "Messages queued again, with backoff, after a transient failure, by actor",
            ["actor"],
            registry=self.registry,
        )
        self._webhook_deliveries = Counter(
            "voxregen_webhook_deliveries",
            "Webhook delivery attempts by event and outcome",
            ["event", "outcome"],
            registry=self.registry,
        )
        for actor in ACTOR_NAMES:  # 0 from the start, so that a rate has a series to read
            self._retries.labels(actor=actor)
        for event in WebhookEvent:
            for outcome in WebhookOutcome:
                self._webhook_deliveries.labels(event=event.value, outcome=outcome.value)
        ProcessCollector(registry=self.registry)
        if queue_depth is not None:
            self.registry.register(
                ScrapeTimeGauge(
                    "voxregen_queue_depth",
                    "Messages of the job queue by state, read from Redis at this scrape",
                    label="state",
                    source="redis",
                    read=lambda: queue_depth().by_state(),
                )
            )

    def observe_chunk_generation(self, elapsed_s: float) -> None:
        self._chunk_generation.observe(elapsed_s)

    def observe_stages(self, stage_ms: Mapping[str, float]) -> None:
        """A stage timer's laps, in milliseconds (``StageTimer.stage_ms``)."""
        for stage, elapsed_ms in stage_ms.items():
            self._stages.labels(stage=stage).observe(elapsed_ms / 1000.0)

    def count_retry(self, actor: str) -> None:
        self._retries.labels(actor=actor).inc()

    def count_webhook_delivery(self, *, event: str, outcome: WebhookOutcome) -> None:
        self._webhook_deliveries.labels(event=event, outcome=outcome.value).inc()


def serve_metrics(metrics: WorkerMetrics, port: int) -> Callable[[], None]:
    """Serve ``metrics`` at ``http://<host>:<port>/metrics`` (any path answers) from a daemon
    thread; the function that stops it. Raises ConfigError if the port cannot be bound."""
    try:
        server, thread = start_http_server(port, addr=METRICS_ADDRESS, registry=metrics.registry)
    except OSError as error:
        raise ConfigError(
            f"VOXREGEN_WORKER_METRICS_PORT={port}: cannot listen on {METRICS_ADDRESS}:{port}: "
            f"{error.strerror or error}"
        ) from None

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return stop
