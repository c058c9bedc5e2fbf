"""How many messages the job queues hold, read from the Dramatiq broker's Redis keys (Dramatiq
2.2's ``brokers/redis.py`` and ``dispatch.lua``) in one transaction per queue, for the workers'
queue depth gauge; and how many units of render work wait in the render backlog
(:mod:`voxregen_adapters.redis_render_backlog`: each has a turn among the queued messages).

Per queue (``default`` and ``render``, :data:`~voxregen_adapters.dramatiq_job_queue.QUEUE_NAMES`),
the broker keeps every message in a hash (``<ns>:default.msgs``) until it is
acknowledged, and the ids waiting to be fetched in a list (``<ns>:default``); so the hash's
size less the list's is what workers hold (running, or prefetched behind what runs).
Messages waiting for their time (retries, a webhook's next attempt) are in the delay queue's
hash (``<ns>:default.DQ.msgs``), and those Dramatiq gave up on in the dead-letter sorted set
(``<ns>:default.XQ``), kept there for a week.
"""

import attrs
import redis
from dramatiq.brokers.redis import RedisBroker

from voxregen_adapters.dramatiq_job_queue import QUEUE_NAMES, render_backlog
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
    render_backlog: int = 0
    """Units of render work (job starts, chunks) waiting for a turn to claim them."""

    def by_state(self) -> dict[str, int]:
        return attrs.asdict(self)


def queue_depth(broker: RedisBroker) -> QueueDepth:
    """The queues' depth now, summed over them; raises QueueUnavailableError if Redis cannot be
    reached."""
    totals = [0, 0, 0, 0]
    for queue_name in sorted(set(QUEUE_NAMES.values())):
        prefix = f"{broker.namespace}:{queue_name}"
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
        for index, count in enumerate((queued, max(0, unacknowledged - queued), delayed, dead)):
            totals[index] += count
    queued, in_hand, delayed, dead = totals
    return QueueDepth(
        queued=queued,
        in_hand=in_hand,
        delayed=delayed,
        dead=dead,
        render_backlog=len(render_backlog(broker).waiting()),
    )
