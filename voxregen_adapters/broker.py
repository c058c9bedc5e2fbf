"""The Dramatiq broker over Redis (``VOXREGEN_REDIS_URL``), built in one place.

The API process enqueues through it (:class:`~voxregen_adapters.dramatiq_job_queue.DramatiqJobQueue`)
and the worker process consumes from it; both pass the same ``namespace``. Nothing connects
until the first command, and this module never calls ``dramatiq.set_broker``: the process's
entry point decides that.

Dead workers (Dramatiq 2.2's ``brokers/redis.py`` and its ``dispatch.lua``): a worker keeps a
set of the messages it has fetched and not acknowledged yet — the one its actor thread runs
and those prefetched behind it (two per thread). Every broker command a process sends
refreshes its heartbeat, a score in one sorted set. A worker killed outright (``kill -9``, a
lost machine) stops sending them, and its set stays in Redis until another process runs the
broker's "maintenance" and finds the heartbeat older than ``heartbeat_timeout_s``: the set's
messages then go back to the tail of their queue, and that very command (a fetch) may take
one at once.

A busy worker is not silent. Of its two consumer threads, the one of the main queue stops
fetching while its prefetch is full (a long chunk running, one more in hand), but the one of
the delay queue (retries waiting for their time) polls at least once a second, whatever the
actor threads do, until it holds 1,000 delayed messages per worker thread; each poll is a
heartbeat. ``tests/e2e/test_crashes.py`` keeps a prefetched chunk's message in a busy
worker's hands for more than twice the timeout, with a second worker looking for dead ones all
along, and no message is taken from it. What would silence a live worker: a generator that holds the GIL for longer than the
timeout (the stub, numpy and PyTorch release it), a host clock behind the others' by about the
timeout (heartbeats are the sender's clock, compared with the maintainer's), or Redis
unreachable for longer than it (every worker then looks dead to the first one back, and the
messages in hand are rendered twice: harmless, chunks are idempotent).

Dramatiq runs maintenance on one command in a thousand by default, and only a command on the
main queue takes back a dead worker's main-queue messages (with one in twenty and a 60 s
timeout, a killed worker's chunk waited 84-90 s); we run it on every command (two range queries on small
sorted sets, and one ``KEYS`` per process that looks dead, until it is cleared). An idle worker
fetches every 0.5-1 s, so a dead worker's messages are taken again from about 1 s before to 2 s
after ``heartbeat_timeout_s`` past its death (9.9-10.6 s with the default 10 s, measured by
``benchmarks/recovery.py``); a busy survivor takes them when it fetches next, after the
messages already queued.
"""

from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from voxregen_adapters.settings import DEFAULT_HEARTBEAT_TIMEOUT_S

MAINTENANCE_CHANCE = MAINTENANCE_SCALE
"""Commands in a million that also run the broker's maintenance: all of them (Dramatiq's
default: 1,000)."""


def make_broker(
    redis_url: str,
    *,
    namespace: str = "voxregen",
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S,
) -> RedisBroker:
    """A Redis broker for ``redis_url`` (``redis://``, ``rediss://`` or ``unix://``) whose
    keys all start with ``namespace``, counting a worker dead after ``heartbeat_timeout_s``
    without a heartbeat. Does not connect."""
    return RedisBroker(
        url=redis_url,
        namespace=namespace,
        heartbeat_timeout=round(heartbeat_timeout_s * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
    )
