"""The worker process: ``voxregen worker`` calls :func:`run_worker` with the loaded settings."""

import signal
import threading

import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker

from voxregen_adapters.broker import make_broker
from voxregen_adapters.log_config import configure_logging
from voxregen_adapters.service import build_service
from voxregen_adapters.settings import Settings
from voxregen_worker.actors import declare_actors

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_worker(settings: Settings, *, threads: int = 1, broker: RedisBroker | None = None) -> None:
    """Consume profile builds and render jobs with ``threads`` worker threads until SIGINT or
    SIGTERM, then finish or hand back the messages in hand and return.

    Must run on the main thread (it installs the signal handlers). ``broker`` overrides the
    Redis broker of ``settings.redis_url`` (tests pass one with their own namespace). Raises
    ConfigError for missing settings before anything starts.
    """
    configure_logging()
    service = build_service(settings)
    broker = broker or make_broker(settings.redis_url)
    declare_actors(broker, service)
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in STOP_SIGNALS}
    worker = dramatiq.Worker(broker, worker_threads=threads)
    log = structlog.get_logger()
    try:
        worker.start()
        log.info("worker_started", threads=threads, actors=sorted(broker.get_declared_actors()))
        while not stop.wait(timeout=1.0):
            pass
        log.info("worker_stopping")
        worker.stop()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        service.close()
        broker.client.connection_pool.disconnect()  # RedisBroker.close() is a no-op
        log.info("worker_stopped")
