"""The service as an operator runs it (:mod:`tests.e2e.stack`): ``voxregen migrate``, then
``voxregen api`` and ``voxregen worker`` processes over a fresh PostgreSQL database, a claimed
Redis database index and moto's S3 server; stopped with SIGTERM, and each must shut down
cleanly in time.

- ``stack``: the API and one worker.
- ``api_stack``: the API alone; the test starts its workers (with env of its own) and may
  kill them with SIGKILL.
"""

import signal
from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack, s3_storage_url
from tests.e2e.stack import claimed_redis as _claimed_redis

__all__ = ["Stack"]


@pytest.fixture
def claimed_redis(redis_url) -> Iterator[str]:
    """``redis_url`` on a database index no other run holds, without any ``voxregen`` keys."""
    with _claimed_redis(redis_url) as url:
        yield url


@pytest.fixture
def api_stack(fresh_database_url, claimed_redis, s3_endpoint, tmp_path) -> Iterator[Stack]:
    """The API running; the test starts (and may kill) its workers. Afterwards the API and
    every worker not killed must have stopped cleanly."""
    with Stack(
        database_url=fresh_database_url,
        redis_url=claimed_redis,
        storage_url=s3_storage_url(s3_endpoint),
        work_dir=tmp_path,
    ) as running:
        running.start_api()
        yield running
    survivors = {name: code for name, code in running.exit_codes.items() if code != -signal.SIGKILL}
    expected = {"api": -signal.SIGTERM} | {
        worker.name: 0 for worker in running.workers if worker.name in survivors
    }
    assert survivors == expected, f"{running.exit_codes}\n{running.logs()}"
    assert "Application shutdown complete." in running.processes[0].text()
    for worker in running.workers:
        assert worker.name not in survivors or worker.events("worker_stopped"), running.logs()


@pytest.fixture
def stack(api_stack) -> Stack:
    """The API and one worker, running; afterwards both must have stopped cleanly."""
    api_stack.start_worker()
    return api_stack
