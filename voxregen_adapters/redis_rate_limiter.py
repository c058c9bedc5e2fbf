"""``RedisRateLimiter``: each user's request rate as a token bucket in Redis, so that the limit
holds across every API process.

A user's bucket holds up to ``per_min`` tokens and gains ``per_min / 60`` a second; a request
takes one. The bucket (its tokens and when they were counted) is a hash under
``voxregen:rate:{user_id}``, updated by one Lua script that reads Redis's own clock, so the
processes need not agree on the time and no two requests take the same token. A bucket left
alone refills and expires.

A Redis that cannot be reached lets the request through (and logs ``rate_limit_unavailable``):
the limit protects the service from a flood, and refusing every read because the queue's
Redis is down would make an outage worse.
"""

import uuid

import redis
import structlog

SOCKET_TIMEOUT_S = 1.0
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RedisRateLimiter:
    def __init__(self, redis_url: str, *, per_min: int) -> None:
        self._client = redis.Redis.from_url(
            redis_url, socket_connect_timeout=SOCKET_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S
        )
        self._take = self._client.register_script(_TAKE)
        self._per_min = per_min

    def wait_s(self, *, user_id: uuid.UUID) -> float:
        try:
            waited = self._take(
                keys=[f"voxregen:rate:{user_id}"], args=[self._per_min, self._per_min / 60]
            )
        except redis.RedisError as error:
            structlog.get_logger().warning("rate_limit_unavailable", error=str(error))
            return 0.0
        return float(waited)

    def close(self) -> None:
        self._client.connection_pool.disconnect()
