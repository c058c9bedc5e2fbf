"""``DramatiqJobQueue``: the :class:`~voxregen_core.ports.JobQueue` port over a Dramatiq broker,
and the only place that knows the queues' actor names and how a message is encoded.

Profile builds and webhook deliveries are Dramatiq messages on the ``default`` queue. Render
work is not: each unit (a job's start, a chunk) is pushed onto the render backlog beside the
broker (:func:`render_backlog`: the same Redis, the same namespace), and a ``render_turn``
message carrying a fresh turn id goes on the ``render`` queue. The worker that runs a turn
claims whichever unit is next by the fair share between users
(:mod:`voxregen_core.fair_share`), so a user's backlog of turns in Dramatiq's FIFO queue holds
back no other user. Unit first, turn second: a process that dies between the two leaves a unit
with no turn of its own, which the next spare turn takes (the sweeper queues one each pass
while work waits, :meth:`DramatiqJobQueue.enqueue_spare_render_turn`); a turn with nothing
left to claim does nothing.

The API process does not import the worker's actors (the two packages never import each
other), so messages are built here by actor name; the worker declares its actors by the same
names (:data:`ACTOR_NAMES`) on the queues of :data:`QUEUE_NAMES`, and turns what they receive
back into the typed message with :func:`decode_message`.

Wire format: positional arguments, JSON primitives only, ids as their canonical strings; and
the message's ``request_id``, when it has one, as the keyword argument ``request_id`` (so a
message sent before request ids existed decodes the same). A message sent without one gets the
request id of the work in hand (:mod:`voxregen_adapters.request_context`): the API request's,
or the message's the worker is handling.

=============  ======================================================
actor          args
=============  ======================================================
profile_build  ``(user_id, profile_id)`` as ``(str, str)``
render_turn    ``(turn_id,)`` as ``(str,)``
webhook        ``(user_id, job_id, event, webhook_id, attempt)`` as
               ``(str, str, str, str, int)``, delayed for a retry
=============  ======================================================
"""

import uuid
from collections.abc import Mapping, Sequence

import attrs
import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from voxregen_adapters.redis_render_backlog import RedisRenderBacklog
from voxregen_adapters.request_context import current_request_id
from voxregen_core.errors import InvalidParamsError, QueueUnavailableError
from voxregen_core.fair_share import RenderWork
from voxregen_core.messages import (
    JobMessage,
    ProfileBuildMessage,
    RenderChunkMessage,
    RenderJobMessage,
    WebhookDeliveryMessage,
)


@attrs.frozen
class RenderTurn:
    """Claim the next unit of render work from the backlog (the fair share decides which),
    do it, and release the claim; ``turn_id`` names the claim."""

    turn_id: uuid.UUID = attrs.field(validator=attrs.validators.instance_of(uuid.UUID))


Message = JobMessage | RenderTurn
"""What the queues carry: the profile builds and webhook deliveries, and the render turns."""

PROFILE_BUILD = "profile_build"
RENDER_TURN = "render_turn"
WEBHOOK = "webhook"

_MESSAGE_TYPES: dict[str, type[Message]] = {
    PROFILE_BUILD: ProfileBuildMessage,
    RENDER_TURN: RenderTurn,
    WEBHOOK: WebhookDeliveryMessage,
}
_ACTOR_NAMES = {message_type: name for name, message_type in _MESSAGE_TYPES.items()}
ACTOR_NAMES = tuple(_MESSAGE_TYPES)
"""The actors the worker declares: one per message type."""
_REQUEST_ID = "request_id"
"""The one keyword argument on the wire: the message's optional ``request_id``."""
QUEUE_NAMES = {PROFILE_BUILD: "default", RENDER_TURN: "render", WEBHOOK: "default"}
"""Each actor's Dramatiq queue: render turns on their own, so that profile builds and webhook
deliveries never wait behind a backlog of render work."""


def render_backlog(broker: RedisBroker) -> RedisRenderBacklog:
    """The render backlog of ``broker``'s queues: in its Redis, under its namespace (the API
    and the worker build theirs from the broker they share, so the two cannot disagree)."""
    return RedisRenderBacklog(broker.client, namespace=broker.namespace)


class DramatiqJobQueue:
    def __init__(self, broker: RedisBroker) -> None:
        self._broker = broker
        self._backlog = render_backlog(broker)

    def enqueue_profile_build(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
        self._send(ProfileBuildMessage(user_id=user_id, profile_id=profile_id))

    def enqueue_render_job(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        self._queue_render(RenderJobMessage(user_id=user_id, job_id=job_id))

    def enqueue_render_chunk(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, chunk_index: int
    ) -> None:
        self._queue_render(
            RenderChunkMessage(user_id=user_id, job_id=job_id, chunk_index=chunk_index)
        )

    def enqueue_spare_render_turn(self) -> int:
        """One more turn if render work waits (module docstring); how many units wait."""
        waiting = len(self._backlog.waiting())
        if waiting:
            self._send(RenderTurn(turn_id=uuid.uuid4()))
        return waiting

    def enqueue_webhook_delivery(
        self, message: WebhookDeliveryMessage, *, delay_s: float = 0.0
    ) -> None:
        self._send(message, delay_s=delay_s)

    def _queue_render(self, work: RenderWork) -> None:
        """The unit onto the backlog (with the request id in hand if it has none), then a turn
        for it. The turn carries no request id: whichever unit it claims carries its own."""
        if work.request_id is None:
            work = attrs.evolve(work, request_id=current_request_id())
        self._backlog.push(work)
        self._send(RenderTurn(turn_id=uuid.uuid4()))

    def _send(self, message: Message, *, delay_s: float = 0.0) -> None:
        """Send one message (``delay_s`` from now), a job message with the request id in hand
        if it has none; QueueUnavailableError when Redis cannot be reached."""
        if not isinstance(message, RenderTurn) and message.request_id is None:
            message = attrs.evolve(message, request_id=current_request_id())
        actor_name = _ACTOR_NAMES[type(message)]
        envelope = dramatiq.Message(
            queue_name=QUEUE_NAMES[actor_name],
            actor_name=actor_name,
            args=encode_args(message),
            kwargs=encode_kwargs(message),
            options={},
        )
        try:
            self._broker.enqueue(envelope, delay=round(delay_s * 1000) or None)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise QueueUnavailableError(
                f"cannot queue {actor_name}: the job queue's Redis is unreachable ({error})"
            ) from error


def encode_args(message: Message) -> tuple[str | int, ...]:
    """The message's positional arguments on the wire, in field order: ids as strings."""
    return tuple(
        str(value) if isinstance(value, uuid.UUID) else value
        for value in (getattr(message, field.name) for field in _positional(type(message)))
    )


def encode_kwargs(message: Message) -> dict[str, str]:
    """The message's keyword arguments on the wire: its ``request_id``, if it has one."""
    request_id = getattr(message, "request_id", None)
    return {} if request_id is None else {_REQUEST_ID: request_id}


def decode_message(
    actor_name: str, args: Sequence[object], kwargs: Mapping[str, object] | None = None
) -> Message:
    """The typed message that ``args`` and ``kwargs``, received by the actor ``actor_name``,
    encode; raises InvalidParamsError for an unknown actor or arguments that
    :class:`DramatiqJobQueue` would not have sent (a wrong count, an id that is not a UUID
    string, an index that is not an integer, a keyword other than ``request_id`` (none for a
    render turn) or an invalid request id)."""
    message_type = _MESSAGE_TYPES.get(actor_name)
    if message_type is None:
        raise InvalidParamsError(
            f"unknown actor {actor_name!r}; known: {', '.join(sorted(ACTOR_NAMES))}"
        )
    fields = _positional(message_type)
    if len(args) != len(fields):
        names = ", ".join(field.name for field in fields)
        raise InvalidParamsError(
            f"{actor_name} takes {len(fields)} arguments ({names}), got {len(args)}"
        )
    kwargs = kwargs or {}
    allowed = set() if message_type is RenderTurn else {_REQUEST_ID}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise InvalidParamsError(
            f"{actor_name} takes the keyword arguments {sorted(allowed)}, got {unknown}"
        )
    return message_type(
        **{
            field.name: _decoded_id(actor_name, field.name, arg) if field.type is uuid.UUID else arg
            for field, arg in zip(fields, args, strict=True)
        },
        **{name: kwargs.get(name) for name in allowed},
    )


def _positional(message_type: type[Message]) -> list[attrs.Attribute]:
    """The fields sent as positional arguments: all but the keyword-only ``request_id``."""
    return [field for field in attrs.fields(message_type) if not field.kw_only]


def _decoded_id(actor_name: str, name: str, arg: object) -> uuid.UUID:
    if type(arg) is str:
        try:
            return uuid.UUID(arg)
        except ValueError:
            pass
    raise InvalidParamsError(f"{actor_name} argument {name} must be a UUID string, got {arg!r}")
