"""The worker process: ``voxregen worker`` calls :func:`run_worker` with the loaded settings."""

import signal
import threading

import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker

from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_adapters.generators import build_generator
from voxregen_adapters.log_config import configure_logging
from voxregen_adapters.service import build_service
from voxregen_adapters.settings import Settings
from voxregen_worker.actors import declare_actors
from voxregen_worker.render_job import Renderer
from voxregen_worker.sweeper import Sweeper

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_worker(settings: Settings, *, threads: int = 1, broker: RedisBroker | None = None) -> None:
    """Consume profile builds, render jobs and their chunks with ``threads`` worker threads,
    and sweep for stalled jobs, until SIGINT or SIGTERM; then finish or hand back the
    messages in hand and return.

    Must run on the main thread (it installs the signal handlers). ``broker`` overrides the
    Redis broker of ``settings.redis_url`` (tests pass one with their own namespace); the
    worker queues a job's chunks on the broker it consumes. Raises ConfigError for missing
    settings before anything starts.
    """
    configure_logging()
    worker_settings = settings.worker
    broker = broker or make_broker(
        settings.redis_url, heartbeat_timeout_s=worker_settings.heartbeat_timeout_s
    )
    service = build_service(settings, queue=DramatiqJobQueue(broker))
    generator = build_generator(worker_settings)
    declare_actors(broker, service, Renderer(service, generator))
    sweeper = Sweeper(
        service,
        stall_timeout_s=worker_settings.stall_timeout_s,
        job_deadline_s=worker_settings.job_deadline_s,
        feature_cache_max_idle_s=worker_settings.feature_cache_max_idle_s,
    )
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in STOP_SIGNALS}
    worker = dramatiq.Worker(broker, worker_threads=threads)
    sweeping = threading.Thread(target=sweeper.run, args=(stop,), name="sweeper", daemon=True)
    log = structlog.get_logger()
    try:
        worker.start()
        sweeping.start()
        log.info(
            "worker_started",
            threads=threads,
            actors=sorted(broker.get_declared_actors()),
            model_device=generator.device.value,
            stub_seconds_per_chunk=worker_settings.stub_seconds_per_chunk,
        )
        while not stop.wait(timeout=1.0):
            pass
        log.info("worker_stopping")
        worker.stop()
    finally:
        stop.set()
        service.close()
        broker.client.connection_pool.disconnect()  # RedisBroker.close() is a no-op
        log.info("worker_stopped")
        # last: a second SIGTERM during the shutdown above must not kill the process
        for number, handler in previous.items():
            signal.signal(number, handler)
