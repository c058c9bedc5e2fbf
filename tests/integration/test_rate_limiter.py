"""RedisRateLimiter over the real Redis: one bucket per user shared by every limiter (as by
every API process), refilled at the rate, and a Redis that cannot be reached lets requests
through, saying so in the log."""

import time
import uuid

import structlog

from voxregen_adapters.redis_rate_limiter import RedisRateLimiter

PER_MIN = 60


def test_limiters_share_each_users_bucket_and_it_refills(redis_url):
    first, second = (RedisRateLimiter(redis_url, per_min=PER_MIN) for _ in range(2))
    ada, bob = uuid.uuid4(), uuid.uuid4()
    try:
        waits = [(first, second)[n % 2].wait_s(user_id=ada) for n in range(PER_MIN)]
        assert waits == [0.0] * PER_MIN  # the burst: a minute's worth
        refused_s = first.wait_s(user_id=ada)
        assert 0.0 < refused_s <= 60 / PER_MIN  # a token a second
        assert second.wait_s(user_id=bob) == 0.0  # Bob's bucket is his own
        time.sleep(refused_s + 0.05)
        assert second.wait_s(user_id=ada) == 0.0  # refilled
        assert first.wait_s(user_id=ada) > 0.0
    finally:
        first.close()
        second.close()


def test_an_unreachable_redis_lets_requests_through_and_logs_it():
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", per_min=1)
    with structlog.testing.capture_logs() as logs:
        waits = [limiter.wait_s(user_id=uuid.uuid4()) for _ in range(3)]
    assert waits == [0.0] * 3
    assert [entry["event"] for entry in logs] == ["rate_limit_unavailable"] * 3
    limiter.close()
