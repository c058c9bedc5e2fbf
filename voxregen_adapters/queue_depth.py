"""How many messages the job queue holds, read from the Dramatiq broker's Redis keys (Dramatiq
2.2's ``brokers/redis.py`` and ``dispatch.lua``) in one transaction, for the workers' queue
depth gauge.

The broker keeps every message of the queue in a hash (``<ns>:default.msgs``) until it is
acknowledged, and the ids waiting to be fetched in a list (``<ns>:default``); so the hash's
size less the list's is what workers hold (running, or prefetched behind what runs).
Messages waiting for their time (retries, a webhook's next attempt) are in the delay queue's
hash (``<ns>:default.DQ.msgs``), and those Dramatiq gave up on in the dead-letter sorted set
(``<ns>:default.XQ``), kept there for a week.
"""

import attrs
import redis
from dramatiq.brokers.redis import RedisBroker

from voxregen_adapters.dramatiq_job_queue import QUEUE_NAME
from voxregen_core.errors import QueueUnavailableError


@attrs.frozen
class QueueDepth:
    """Messages of the job queue, by state."""

    queued: int
    """Waiting for a worker to fetch them."""
    in_hand: int
    """Fetched by a worker and not acknowledged: running, or prefetched behind what runs."""
    delayed: int
    """Waiting for their time: retries with backoff, webhook attempts on their schedule."""
    dead: int
    """Given up on (retries spent, a permanent error) in the last week."""

    def by_state(self) -> dict[str, int]:
        return attrs.asdict(self)


def queue_depth(broker: RedisBroker) -> QueueDepth:
    """The queue's depth now; raises QueueUnavailableError if Redis cannot be reached."""
    prefix = f"{broker.namespace}:{QUEUE_NAME}"
    pipeline = broker.client.pipeline(transaction=True)
    pipeline.llen(prefix)
    pipeline.hlen(f"{prefix}.msgs")
    pipeline.hlen(f"{prefix}.DQ.msgs")
    pipeline.zcard(f"{prefix}.XQ")
    try:
        queued, unacknowledged, delayed, dead = pipeline.execute()
    except redis.RedisError as error:
        raise QueueUnavailableError(
            f"cannot read the queue's depth: its Redis is unreachable ({error})"
        ) from error
    return QueueDepth(
        queued=queued, in_hand=max(0, unacknowledged - queued), delayed=delayed, dead=dead
    )
