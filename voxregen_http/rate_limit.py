"""The request-rate limit of a /v1 caller (``VOXREGEN_RATE_LIMIT_PER_MIN``): a request over it
is a 429 ``rate_limited`` with ``Retry-After``. The bucket lives in Redis
(:mod:`voxregen_adapters.redis_rate_limiter`), so the limit holds across API processes."""

import uuid

from starlette.concurrency import run_in_threadpool

from voxregen_adapters.service import Service
from voxregen_core.errors import RateLimitedError


async def within_rate_limit(service: Service, user_id: uuid.UUID) -> None:
    """Take one of the caller's tokens; raises :class:`RateLimitedError` when there is none."""
    wait_s = await run_in_threadpool(service.rate_limiter.wait_s, user_id=user_id)
    if wait_s > 0:
        per_min = service.settings.limits.rate_limit_per_min
        raise RateLimitedError(
            f"more than {per_min} requests a minute; retry in {wait_s:.1f} s",
            retry_after_s=wait_s,
        )
