"""The worker process: ``voxregen worker`` calls :func:`run_worker` with the parts the
composition root built (:func:`voxregen.composition.service_parts.build_worker`)."""

import functools
import signal
import threading

import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker

from voxregen_adapters.queue_depth import queue_depth
from voxregen_adapters.service import Service
from voxregen_core.errors import ConfigError
from voxregen_core.ports import Generator
from voxregen_worker.actors import declare_actors
from voxregen_worker.metrics import WorkerMetrics, serve_metrics
from voxregen_worker.render_job import Renderer
from voxregen_worker.sweeper import Sweeper

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

IDLE_POLL_MS = 100
"""An idle queue is asked for messages at least this often. Dramatiq's default (1 s, backing off
up to it) made a new job, and each hop between a job's messages when the worker had gone idle,
wait up to a second for a worker that was free; Redis answers these polls in microseconds."""


def run_worker(service: Service, broker: RedisBroker, generator: Generator) -> None:
    """Consume profile builds, render jobs and their chunks from ``broker`` on the settings'
    worker threads (``VOXREGEN_WORKER_THREADS``), rendering with ``generator``, sweep for
    stalled jobs and serve the worker's metrics on ``VOXREGEN_WORKER_METRICS_PORT`` if it is
    set, until SIGINT or SIGTERM; then finish or hand back the messages in hand, close
    ``service`` and return.
    Raises ConfigError, before anything starts, if the metrics port cannot be bound.

    Must run on the main thread: it installs the stop signals' handlers, and returns with
    those signals ignored, so that a repeated stop (an impatient supervisor, ``docker stop``
    after Ctrl-C) cannot kill a process that is already on its way out; a caller that goes on
    running restores its own handlers.
    """
    worker_settings = service.settings.worker
    log = structlog.get_logger()
    stop = threading.Event()
    worker = None
    metrics = WorkerMetrics(queue_depth=functools.partial(queue_depth, broker))
    try:
        stop_serving_metrics = (
            None
            if worker_settings.metrics_port is None
            else serve_metrics(metrics, worker_settings.metrics_port)
        )
    except ConfigError:  # before anything started
        service.close()
        raise
    try:
        for number in STOP_SIGNALS:
            signal.signal(number, lambda *_: stop.set())
        declare_actors(broker, service, Renderer(service, generator, metrics=metrics))
        sweeper = Sweeper(
            service,
            stall_timeout_s=worker_settings.stall_timeout_s,
            job_deadline_s=worker_settings.job_deadline_s,
            feature_cache_max_idle_s=worker_settings.feature_cache_max_idle_s,
            retention=worker_settings.retention,
        )
        worker = dramatiq.Worker(
            broker, worker_threads=worker_settings.threads, worker_timeout=IDLE_POLL_MS
        )
        sweeping = threading.Thread(target=sweeper.run, args=(stop,), name="sweeper", daemon=True)
        worker.start()
        sweeping.start()
        log.info(
            "worker_started",
            threads=worker_settings.threads,
            actors=sorted(broker.get_declared_actors()),
            model_device=generator.device.value,
            stub_seconds_per_chunk=worker_settings.stub_seconds_per_chunk,
            heartbeat_timeout_s=worker_settings.heartbeat_timeout_s,
            metrics_port=worker_settings.metrics_port,
        )
        while not stop.wait(timeout=1.0):
            pass
        log.info("worker_stopping")
    finally:
        stop.set()
        for number in STOP_SIGNALS:  # before anything below can take long
            signal.signal(number, signal.SIG_IGN)
        if worker is not None:
            worker.stop()  # finishes or hands back the messages in hand
        if stop_serving_metrics is not None:
            stop_serving_metrics()
        service.close()  # its closers include the broker's connection pool
        log.info("worker_stopped")
