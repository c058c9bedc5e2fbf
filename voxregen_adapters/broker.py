"""The Dramatiq broker over Redis (``VOXREGEN_REDIS_URL``), built in one place.

The API process enqueues through it (:class:`~voxregen_adapters.dramatiq_job_queue.DramatiqJobQueue`)
and the worker process consumes from it; both pass the same ``namespace``. Nothing connects
until the first command, and this module never calls ``dramatiq.set_broker``: the process's
entry point decides that.
"""

from dramatiq.brokers.redis import RedisBroker


def make_broker(redis_url: str, *, namespace: str = "voxregen") -> RedisBroker:
    """A Redis broker for ``redis_url`` (``redis://``, ``rediss://`` or ``unix://``) whose
    keys all start with ``namespace``. Does not connect."""
    return RedisBroker(url=redis_url, namespace=namespace)
