"""The Dramatiq broker over Redis (``VOXREGEN_REDIS_URL``), built in one place.

The API process enqueues through it (:class:`~voxregen_adapters.dramatiq_job_queue.DramatiqJobQueue`)
and the worker process consumes from it; both pass the same ``namespace``. Nothing connects
until the first command, and this module never calls ``dramatiq.set_broker``: the process's
entry point decides that.

Dead workers: a worker killed outright (``kill -9``, a lost machine) leaves its unfinished
messages in Redis until another worker notices that its heartbeat stopped, more than
``heartbeat_timeout_s`` ago, during the broker's "maintenance". Dramatiq runs maintenance on
one command in a thousand by default, which on an idle queue (about two polls a second) means
every few minutes; we run it on one in twenty, so a dead worker's messages come back within
about ``heartbeat_timeout_s`` plus ten seconds. Maintenance is one sorted-set range query.
"""

from dramatiq.brokers.redis import RedisBroker

MAINTENANCE_CHANCE = 50_000
"""Commands in a million that also run the broker's maintenance (Dramatiq's default: 1,000)."""


def make_broker(
    redis_url: str, *, namespace: str = "voxregen", heartbeat_timeout_s: float = 60.0
) -> RedisBroker:
    """A Redis broker for ``redis_url`` (``redis://``, ``rediss://`` or ``unix://``) whose
    keys all start with ``namespace``. Does not connect."""
    return RedisBroker(
        url=redis_url,
        namespace=namespace,
        heartbeat_timeout=round(heartbeat_timeout_s * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
    )
