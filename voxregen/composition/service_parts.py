"""The hosted service's dependencies: the API's app and the worker's parts over PostgreSQL,
Redis and the object store the settings name."""

import attrs
from dramatiq.brokers.redis import RedisBroker
from starlette.applications import Starlette

from voxregen_adapters.broker import make_broker
from voxregen_adapters.clock import SystemClock
from voxregen_adapters.db.api_key_repository import PostgresApiKeyRepository
from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.db.exemplar_repository import PostgresSingerExemplarRepository
from voxregen_adapters.db.feature_cache_eviction import PostgresFeatureCacheEviction
from voxregen_adapters.db.feature_cache_repository import PostgresFeatureCacheRepository
from voxregen_adapters.db.idempotency_key_repository import PostgresIdempotencyKeyRepository
from voxregen_adapters.db.profile_repository import PostgresSingerProfileRepository
from voxregen_adapters.db.reference_repository import PostgresSingerReferenceRepository
from voxregen_adapters.db.render_job_repository import PostgresRenderJobRepository
from voxregen_adapters.db.retention_sweep import PostgresRetentionSweep
from voxregen_adapters.db.webhook_secret_repository import PostgresWebhookSecretRepository
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_adapters.health_checks import (
    ObjectStoreHealthCheck,
    PostgresHealthCheck,
    RedisHealthCheck,
)
from voxregen_adapters.paced_generator import PacedGenerator
from voxregen_adapters.redis_rate_limiter import RedisRateLimiter
from voxregen_adapters.service import Service
from voxregen_adapters.settings import Settings, WorkerSettings
from voxregen_adapters.storage_url import object_store_from_url
from voxregen_adapters.webhook_sender import UrllibWebhookSender
from voxregen_core.errors import ConfigError
from voxregen_core.ports import (
    Clock,
    Generator,
    GeneratorFactory,
    HealthCheck,
    JobQueue,
    ObjectStore,
)
from voxregen_core.stub_generator import StubGenerator
from voxregen_http.app import create_app


def build_service(
    settings: Settings,
    *,
    store: ObjectStore | None = None,
    queue: JobQueue | None = None,
    clock: Clock | None = None,
    health_checks: tuple[HealthCheck, ...] | None = None,
) -> Service:
    """The service over PostgreSQL (``database_url``), Redis (``redis_url``) and the object
    store of ``storage_url``; raises ConfigError naming a missing setting. The health checks
    probe the database, ``redis_url`` and the store (an overriding one included)."""
    for name in ("database_url", "redis_url", "storage_url"):
        if getattr(settings, name) is None:
            raise ConfigError(f"VOXREGEN_{name.upper()} is not set (voxregen serve sets it)")
    engine = create_database_engine(settings.database_url)
    closers = [engine.dispose]
    if queue is None:
        broker = make_broker(
            settings.redis_url, heartbeat_timeout_s=settings.worker.heartbeat_timeout_s
        )
        queue = DramatiqJobQueue(broker)
        closers.append(broker.client.connection_pool.disconnect)  # RedisBroker.close() is a no-op
    rate_limiter = RedisRateLimiter(settings.redis_url, per_min=settings.limits.rate_limit_per_min)
    closers.append(rate_limiter.close)
    store = store or object_store_from_url(
        settings.storage_url,
        public_url=settings.public_url,
        signing_key=settings.signing_key or b"",
    )
    return Service(
        settings=settings,
        profiles=PostgresSingerProfileRepository(engine),
        references=PostgresSingerReferenceRepository(engine),
        exemplars=PostgresSingerExemplarRepository(engine),
        jobs=PostgresRenderJobRepository(
            engine, max_active_jobs_per_user=settings.limits.max_active_jobs_per_user
        ),
        feature_cache=PostgresFeatureCacheRepository(engine),
        feature_cache_eviction=PostgresFeatureCacheEviction(engine),
        retention_sweep=PostgresRetentionSweep(engine),
        idempotency_keys=PostgresIdempotencyKeyRepository(engine),
        webhook_secrets=PostgresWebhookSecretRepository(engine),
        api_keys=PostgresApiKeyRepository(engine),
        rate_limiter=rate_limiter,
        webhook_sender=UrllibWebhookSender(
            allow_private_networks=settings.webhooks.allow_private_networks,
            timeout_s=settings.webhooks.timeout_s,
        ),
        store=store,
        queue=queue,
        clock=clock or SystemClock(),
        health_checks=(
            PostgresHealthCheck(engine),
            RedisHealthCheck(settings.redis_url),
            ObjectStoreHealthCheck(store),
        )
        if health_checks is None
        else health_checks,
        closers=tuple(closers),
    )


def build_app(settings: Settings) -> Starlette:
    """The HTTP API over the service ``settings`` describe (tests that need their own parts
    call :func:`voxregen_http.app.create_app` with a :func:`build_service` of them)."""
    return create_app(build_service(settings))


@attrs.frozen
class WorkerParts:
    """What :func:`voxregen_worker.main.run_worker` runs: the service, the broker it consumes
    (and queues a job's chunks on) and the generator."""

    service: Service
    broker: RedisBroker
    generator: Generator


def build_worker(
    settings: Settings,
    *,
    broker: RedisBroker | None = None,
    generator_factory: GeneratorFactory = StubGenerator,
) -> WorkerParts:
    """The worker's parts; ``broker`` overrides the Redis broker of ``settings.redis_url``
    (tests pass one with their own namespace). Raises ConfigError for a missing setting."""
    worker_settings = settings.worker
    broker = broker or make_broker(
        settings.redis_url, heartbeat_timeout_s=worker_settings.heartbeat_timeout_s
    )
    service = build_service(settings, queue=DramatiqJobQueue(broker))
    return WorkerParts(
        # closing the service also lets go of the broker's connections, as for the API's
        service=attrs.evolve(
            service, closers=(*service.closers, broker.client.connection_pool.disconnect)
        ),
        broker=broker,
        generator=build_generator(worker_settings, factory=generator_factory),
    )


def build_generator(
    settings: WorkerSettings, *, factory: GeneratorFactory = StubGenerator
) -> Generator:
    """``factory`` built for ``VOXREGEN_MODEL_DEVICE``, paced if
    ``VOXREGEN_STUB_SECONDS_PER_CHUNK`` is set: the point where the machine-learning model
    will replace the stub."""
    generator = factory(settings.model_device)
    if settings.stub_seconds_per_chunk > 0:
        return PacedGenerator(generator, seconds_per_chunk=settings.stub_seconds_per_chunk)
    return generator
