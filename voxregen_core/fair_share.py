"""Fair share of the workers between users: which render work a free worker takes next.

One user's backlog must not hold back another user's job by more than the chunks already
running. Render work comes in units (:data:`RenderWork`): a job's start
(:class:`~voxregen_core.messages.RenderJobMessage`: prepare the stem, queue its chunks) or one
chunk (:class:`~voxregen_core.messages.RenderChunkMessage`). Units wait in a backlog per user,
and a worker that is free takes the next unit by these rules:

1. **Between users: start-time fair queueing** (Goyal, Vin and Cheng, SIGCOMM 1996), every
   unit costing one turn, however long it takes. Each user with work waiting holds a *tag*;
   the next turn goes to the least tag (among equal tags, to the user who got that tag first),
   the *virtual time* becomes that tag, and the user's tag grows by one. A user whose backlog
   was empty gets :func:`arrival_tag`: the virtual time, or one more than the tag of its own
   last turn if that is later, so that emptying a backlog and filling it again never jumps
   the queue.
2. **Within a user: chunks before starts** (:func:`lane_of`), each lane in the order queued:
   a user's jobs finish one after another instead of all at the end, and a worker's few
   prepared stems (:mod:`voxregen_worker.stem_cache`) stay in use.

What follows: a user who queues work while others have backlogs of any size waits for at most
one turn of each of those users before its first unit is taken. With two users and W workers
busy on chunks of ``c`` seconds, the newcomer's job starts when the first worker finishes its
chunk (within ``c``), and from then on every other turn is its own while it has work waiting.

:class:`FairShare` is these rules in memory: the specification that the Redis backlog
(:mod:`voxregen_adapters.redis_render_backlog`, which runs them atomically in Redis scripts)
is held to by ``tests/contracts/test_render_backlog.py``, and what the tests' in-memory job
queue hands out.
"""

import enum
import heapq
import itertools
import uuid
from collections import deque

import attrs

from voxregen_core.messages import RenderChunkMessage, RenderJobMessage

RenderWork = RenderJobMessage | RenderChunkMessage
"""One unit of render work, one turn of a worker."""


class Lane(enum.IntEnum):
    """A user's two queues of waiting work, taken in this order."""

    CHUNKS = 0
    STARTS = 1


def lane_of(work: RenderWork) -> Lane:
    """Chunks of a started job before new starts (rule 2)."""
    return Lane.CHUNKS if isinstance(work, RenderChunkMessage) else Lane.STARTS


def arrival_tag(*, virtual_time: int, finish_tag: int) -> int:
    """The tag of a user whose backlog was empty: the virtual time (the tag of the last turn
    given), or ``finish_tag`` (one more than the tag of the user's own last turn, 0 if none)
    if that is later (rule 1)."""
    return max(virtual_time, finish_tag)


@attrs.define
class FairShare:
    """The waiting render work of every user, handed out by the module's rules."""

    virtual_time: int = 0
    _finish_tags: dict[uuid.UUID, int] = attrs.field(factory=dict)
    """Users with nothing waiting, by their finish tag (only those later than the virtual
    time: an earlier one is the same as none)."""
    _ring: list[tuple[int, int, uuid.UUID]] = attrs.field(factory=list)
    """Users with work waiting, as a heap of ``(tag, arrival number, user_id)``."""
    _lanes: dict[uuid.UUID, tuple[deque[RenderWork], deque[RenderWork]]] = attrs.field(factory=dict)
    _arrivals: itertools.count = attrs.field(factory=itertools.count)

    def push(self, work: RenderWork) -> None:
        """Queue ``work`` at the end of its user's lane."""
        user_id = work.user_id
        if user_id not in self._lanes:
            tag = arrival_tag(
                virtual_time=self.virtual_time, finish_tag=self._finish_tags.pop(user_id, 0)
            )
            heapq.heappush(self._ring, (tag, next(self._arrivals), user_id))
            self._lanes[user_id] = (deque(), deque())
        self._lanes[user_id][lane_of(work)].append(work)

    def take(self) -> RenderWork | None:
        """The next unit of work (rules 1 and 2), taken out of the backlog; None if nothing
        waits."""
        if not self._ring:
            return None
        tag, _, user_id = heapq.heappop(self._ring)
        self.virtual_time = tag
        lanes = self._lanes[user_id]
        work = (lanes[Lane.CHUNKS] or lanes[Lane.STARTS]).popleft()
        if any(lanes):
            heapq.heappush(self._ring, (tag + 1, next(self._arrivals), user_id))
        else:
            del self._lanes[user_id]
            self._finish_tags[user_id] = tag + 1
        self._finish_tags = {
            user: finish for user, finish in self._finish_tags.items() if finish > tag
        }
        return work

    def waiting(self) -> int:
        """How many units wait."""
        return sum(len(lane) for lanes in self._lanes.values() for lane in lanes)
