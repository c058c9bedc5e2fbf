"""``RedisRenderBacklog``: the render work waiting for a worker, per user, in the job queue's
Redis, handed out by the rules of :mod:`voxregen_core.fair_share`; and each unit's claim by
the turn that took it.

:class:`~voxregen_adapters.dramatiq_job_queue.DramatiqJobQueue` pushes every unit here and
queues a *turn* for it (a ``render_turn`` message carrying only a turn id). A worker that runs
a turn claims the unit that is next by the rules *at that moment*, not the one the turn was
sent for: however many turns of one user's backlog wait in Dramatiq's FIFO queue (or sit
prefetched in a worker's hands), the next one run serves whichever user is due. The claim is
kept under the turn's id until the work is done (:meth:`release`), so a turn that comes back —
its worker killed, or a transient error retried — takes the same unit again, and no unit is
lost with a worker. A claim nobody releases (Redis lost the release) expires after
``CLAIM_TTL_S``; its unit was done, or its job stalls and the sweeper queues it again.

Keys, under ``{namespace}:backlog:`` (the broker's namespace):

====================  ======  ============================================================
key                   type    holds
====================  ======  ============================================================
``ring``              zset    users with work waiting, scored by tag; member
                              ``{arrival:015d}:{user_id}`` (equal tags: first come first)
``finish``            zset    users with nothing waiting, by finish tag (only those later
                              than the virtual time: an earlier one is the same as none)
``virtual_time``      string  the tag of the last turn given
``arrivals``          string  the counter numbering the ring's members
``user:{id}:chunks``  list    the user's waiting chunks, oldest first
``user:{id}:starts``  list    the user's waiting starts, oldest first
``claim:{turn_id}``   string  the unit the turn took, until released
====================  ======  ============================================================

A unit is stored as JSON: ``["render_job", user_id, job_id]`` or
``["render_chunk", user_id, job_id, chunk_index]``.

Each operation is one Lua script, so it is atomic whatever runs beside it, and survives a Redis
restart as the queues do (what Redis persists, it persists whole). The scripts carry out
:class:`~voxregen_core.fair_share.FairShare`'s rules (``arrival_tag`` is the ``math.max`` in
``_PUSH``); ``tests/contracts/test_render_backlog.py`` holds the two to the same answers over
random sequences of pushes and takes.
"""

import contextlib
import json
import uuid
from collections.abc import Iterator

import redis

from voxregen_core.errors import QueueUnavailableError
from voxregen_core.fair_share import Lane, RenderWork, lane_of
from voxregen_core.messages import RenderChunkMessage, RenderJobMessage

CLAIM_TTL_S = 86_400
"""Far longer than any turn can be in flight: Dramatiq's time limit (20 minutes) through
every retry and its backoff."""

_KINDS: dict[type[RenderWork], str] = {
    RenderJobMessage: "render_job",
    RenderChunkMessage: "render_chunk",
}
_LANE_NAMES = {Lane.CHUNKS: "chunks", Lane.STARTS: "starts"}

_PUSH = """
-- KEYS: ring, finish, virtual_time, arrivals, the unit's lane, the user's other lane
-- ARGV: user id, unit
if redis.call("LLEN", KEYS[5]) + redis.call("LLEN", KEYS[6]) == 0 then
  local virtual_time = tonumber(redis.call("GET", KEYS[3]) or "0")
  local finish = tonumber(redis.call("ZSCORE", KEYS[2], ARGV[1]) or "0")
  redis.call("ZREM", KEYS[2], ARGV[1])
  local arrival = redis.call("INCR", KEYS[4])
  redis.call("ZADD", KEYS[1], math.max(virtual_time, finish),
             string.format("%015d:", arrival) .. ARGV[1])
end
return redis.call("RPUSH", KEYS[5], ARGV[2])
"""

_CLAIM = """
-- KEYS: ring, finish, virtual_time, arrivals, the turn's claim
-- ARGV: the users' key prefix, the claim's time to live (s)
local claimed = redis.call("GET", KEYS[5])
if claimed then return claimed end
while true do
  local head = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
  if #head == 0 then return false end
  local member, tag = head[1], tonumber(head[2])
  redis.call("ZREM", KEYS[1], member)
  local user = string.sub(member, 17)
  local chunks = ARGV[1] .. user .. ":chunks"
  local starts = ARGV[1] .. user .. ":starts"
  local unit = redis.call("LPOP", chunks) or redis.call("LPOP", starts)
  if unit then  -- (a member with no work, never left by these scripts, is dropped)
    redis.call("SET", KEYS[3], tag)
    if redis.call("LLEN", chunks) + redis.call("LLEN", starts) > 0 then
      local arrival = redis.call("INCR", KEYS[4])
      redis.call("ZADD", KEYS[1], tag + 1, string.format("%015d:", arrival) .. user)
    else
      redis.call("ZADD", KEYS[2], tag + 1, user)
    end
    redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", tag)
    redis.call("SET", KEYS[5], unit, "EX", ARGV[2])
    return unit
  end
end
"""


class RedisRenderBacklog:
    """Every method raises :class:`~voxregen_core.errors.QueueUnavailableError` when Redis
    cannot be reached."""

    def __init__(self, client: redis.Redis, *, namespace: str) -> None:
        self._client = client
        self._prefix = f"{namespace}:backlog:"
        self._push = client.register_script(_PUSH)
        self._claim = client.register_script(_CLAIM)

    def push(self, work: RenderWork) -> None:
        """Queue ``work`` at the end of its user's lane."""
        lanes = [self._lane_key(work.user_id, lane) for lane in Lane]
        own = lane_of(work)
        with _reaching(f"queue {_KINDS[type(work)]}"):
            self._push(
                keys=[*self._state_keys(), lanes[own], lanes[1 - own]],
                args=[str(work.user_id), _encoded(work)],
            )

    def claim(self, turn_id: uuid.UUID) -> RenderWork | None:
        """The unit the turn ``turn_id`` claimed before, if it did; else the next unit by the
        fair share's rules, taken out of the backlog and claimed by the turn; None if nothing
        waits."""
        with _reaching("claim render work"):
            unit = self._claim(
                keys=[*self._state_keys(), self._claim_key(turn_id)],
                args=[f"{self._prefix}user:", CLAIM_TTL_S],
            )
        return None if unit is None else _decoded(unit)

    def claimed(self, turn_id: uuid.UUID) -> RenderWork | None:
        """The unit the turn claimed and has not released, if any."""
        with _reaching("read a claim"):
            unit = self._client.get(self._claim_key(turn_id))
        return None if unit is None else _decoded(unit)

    def release(self, turn_id: uuid.UUID) -> None:
        """Forget the turn's claim: its work is done (or given up)."""
        with _reaching("release a claim"):
            self._client.delete(self._claim_key(turn_id))

    def waiting(self) -> list[RenderWork]:
        """The units waiting, user by user in the order of their next turn, each user's
        chunks then starts (a listing: turns interleave the users)."""
        with _reaching("list render work"):
            members = self._client.zrange(f"{self._prefix}ring", 0, -1)
            pipeline = self._client.pipeline(transaction=True)
            for member in members:
                user_id = uuid.UUID(member.decode().split(":", 1)[1])
                for lane in Lane:
                    pipeline.lrange(self._lane_key(user_id, lane), 0, -1)
            lanes = pipeline.execute()
        return [_decoded(unit) for units in lanes for unit in units]

    def _state_keys(self) -> list[str]:
        return [f"{self._prefix}{name}" for name in ("ring", "finish", "virtual_time", "arrivals")]

    def _lane_key(self, user_id: uuid.UUID, lane: Lane) -> str:
        return f"{self._prefix}user:{user_id}:{_LANE_NAMES[lane]}"

    def _claim_key(self, turn_id: uuid.UUID) -> str:
        return f"{self._prefix}claim:{turn_id}"


@contextlib.contextmanager
def _reaching(action: str) -> Iterator[None]:
    """Turns Redis being unreachable during ``action`` into QueueUnavailableError."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise QueueUnavailableError(
            f"cannot {action}: the job queue's Redis is unreachable ({error})"
        ) from error


def _encoded(work: RenderWork) -> str:
    """``[kind, user_id, job_id, request_id]`` and, for a chunk, its index: JSON the scripts
    never read (they move it whole)."""
    fields = [_KINDS[type(work)], str(work.user_id), str(work.job_id), work.request_id]
    if isinstance(work, RenderChunkMessage):
        fields.append(work.chunk_index)
    return json.dumps(fields)


def _decoded(unit: bytes) -> RenderWork:
    kind, user_id, job_id, request_id, *chunk = json.loads(unit)
    ids = {"user_id": uuid.UUID(user_id), "job_id": uuid.UUID(job_id), "request_id": request_id}
    if kind == "render_job":
        return RenderJobMessage(**ids)
    (chunk_index,) = chunk
    return RenderChunkMessage(**ids, chunk_index=chunk_index)
