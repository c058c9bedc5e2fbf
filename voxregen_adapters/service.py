"""The service's composition root: every port of the API and the worker, built from settings.

The CLI's local render has its own, lighter root (:mod:`voxregen_adapters.bootstrap`). Nothing
here connects at construction: the engine, the S3 client and the broker connect on first use.
Keyword arguments override single parts (tests pass fakes).
"""

import attrs
import sqlalchemy as sa

from voxregen_adapters.broker import make_broker
from voxregen_adapters.clock import SystemClock
from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.db.exemplar_repository import PostgresSingerExemplarRepository
from voxregen_adapters.db.feature_cache_eviction import PostgresFeatureCacheEviction
from voxregen_adapters.db.feature_cache_repository import PostgresFeatureCacheRepository
from voxregen_adapters.db.profile_repository import PostgresSingerProfileRepository
from voxregen_adapters.db.reference_repository import PostgresSingerReferenceRepository
from voxregen_adapters.db.render_job_repository import PostgresRenderJobRepository
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_adapters.health_checks import (
    ObjectStoreHealthCheck,
    PostgresHealthCheck,
    RedisHealthCheck,
)
from voxregen_adapters.settings import Settings
from voxregen_adapters.storage_url import object_store_from_url
from voxregen_core.errors import ConfigError
from voxregen_core.ports import (
    Clock,
    FeatureCacheEviction,
    FeatureCacheRepository,
    HealthCheck,
    JobQueue,
    ObjectStore,
    RenderJobRepository,
    SingerExemplarRepository,
    SingerProfileRepository,
    SingerReferenceRepository,
)


@attrs.frozen
class Service:
    """Everything the API and the worker talk to."""

    settings: Settings
    engine: sa.Engine
    profiles: SingerProfileRepository
    references: SingerReferenceRepository
    exemplars: SingerExemplarRepository
    jobs: RenderJobRepository
    feature_cache: FeatureCacheRepository
    feature_cache_eviction: FeatureCacheEviction
    store: ObjectStore
    queue: JobQueue
    clock: Clock
    health_checks: tuple[HealthCheck, ...]
    """What ``GET /readyz`` probes, in the order it reports them."""

    def close(self) -> None:
        """Release pooled connections (at process shutdown)."""
        self.engine.dispose()


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
    store = store or object_store_from_url(
        settings.storage_url,
        public_url=settings.public_url,
        signing_key=settings.signing_key or b"",
    )
    return Service(
        settings=settings,
        engine=engine,
        profiles=PostgresSingerProfileRepository(engine),
        references=PostgresSingerReferenceRepository(engine),
        exemplars=PostgresSingerExemplarRepository(engine),
        jobs=PostgresRenderJobRepository(engine),
        feature_cache=PostgresFeatureCacheRepository(engine),
        feature_cache_eviction=PostgresFeatureCacheEviction(engine),
        store=store,
        queue=queue or DramatiqJobQueue(make_broker(settings.redis_url)),
        clock=clock or SystemClock(),
        health_checks=(
            PostgresHealthCheck(engine),
            RedisHealthCheck(settings.redis_url),
            ObjectStoreHealthCheck(store),
        )
        if health_checks is None
        else health_checks,
    )
