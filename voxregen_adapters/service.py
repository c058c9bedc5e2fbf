"""The service: every port the API and the worker talk to, as one value.

:func:`voxregen.composition.service_parts.build_service` builds it from the settings; HTTP routes and worker
actors receive it and hand it to the use cases (it is a
:class:`~voxregen_core.ports.ServicePorts`). It carries ports only: the database engine, the S3
client and the broker stay inside the adapters that use them.
"""

from collections.abc import Callable

import attrs

from voxregen_adapters.settings import Settings
from voxregen_core.ports import (
    ApiKeyRepository,
    Clock,
    FeatureCacheEviction,
    FeatureCacheRepository,
    HealthCheck,
    IdempotencyKeyRepository,
    JobQueue,
    ObjectStore,
    RateLimiter,
    RenderJobRepository,
    RetentionSweep,
    SingerExemplarRepository,
    SingerProfileRepository,
    SingerReferenceRepository,
    WebhookSecretRepository,
    WebhookSender,
)


@attrs.frozen
class Service:
    """Everything the API and the worker talk to."""

    settings: Settings
    profiles: SingerProfileRepository
    references: SingerReferenceRepository
    exemplars: SingerExemplarRepository
    jobs: RenderJobRepository
    feature_cache: FeatureCacheRepository
    feature_cache_eviction: FeatureCacheEviction
    retention_sweep: RetentionSweep
    idempotency_keys: IdempotencyKeyRepository
    webhook_secrets: WebhookSecretRepository
    webhook_sender: WebhookSender
    api_keys: ApiKeyRepository
    rate_limiter: RateLimiter
    store: ObjectStore
    queue: JobQueue
    clock: Clock
    health_checks: tuple[HealthCheck, ...]
    """What ``GET /readyz`` probes, in the order it reports them."""
    closers: tuple[Callable[[], None], ...] = ()
    """What :meth:`close` calls: the composition root's release of pooled connections."""

    def close(self) -> None:
        """Release pooled connections (at process shutdown)."""
        for close in self.closers:
            close()
