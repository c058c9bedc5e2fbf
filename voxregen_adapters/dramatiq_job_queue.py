"""``DramatiqJobQueue``: the :class:`~voxregen_core.ports.JobQueue` port over a Dramatiq broker,
and the only place that knows the queue's actor names and how a message is encoded.

The API process does not import the worker's actors (the two packages never import each
other), so messages are built here by actor name; the worker declares its actors by the same
names (:data:`ACTOR_NAMES`) and turns what they receive back into the typed message with
:func:`decode_message`. Every voxregen actor consumes Dramatiq's ``default`` queue.

Wire format: positional arguments, JSON primitives only, ids as their canonical strings; and
the message's ``request_id``, when it has one, as the keyword argument ``request_id`` (so a
message sent before request ids existed decodes the same). A message sent without one gets the
request id of the work in hand (:mod:`voxregen_adapters.request_context`): the API request's,
or the message's the worker is handling.

============  ======================================================
actor         args
============  ======================================================
profile_build ``(user_id, profile_id)`` as ``(str, str)``
render_job    ``(user_id, job_id)`` as ``(str, str)``
render_chunk  ``(user_id, job_id, chunk_index)`` as ``(str, str, int)``
webhook       ``(user_id, job_id, event, webhook_id, attempt)`` as
              ``(str, str, str, str, int)``, delayed for a retry
============  ======================================================
"""

import uuid
from collections.abc import Mapping, Sequence

import attrs
import dramatiq
import redis

from voxregen_adapters.request_context import current_request_id
from voxregen_core.errors import InvalidParamsError, QueueUnavailableError
from voxregen_core.messages import (
    JobMessage,
    ProfileBuildMessage,
    RenderChunkMessage,
    RenderJobMessage,
    WebhookDeliveryMessage,
)

QUEUE_NAME = "default"

PROFILE_BUILD = "profile_build"
RENDER_JOB = "render_job"
RENDER_CHUNK = "render_chunk"
WEBHOOK = "webhook"

_MESSAGE_TYPES: dict[str, type[JobMessage]] = {
    PROFILE_BUILD: ProfileBuildMessage,
    RENDER_JOB: RenderJobMessage,
    RENDER_CHUNK: RenderChunkMessage,
    WEBHOOK: WebhookDeliveryMessage,
}
_ACTOR_NAMES = {message_type: name for name, message_type in _MESSAGE_TYPES.items()}
ACTOR_NAMES = tuple(_MESSAGE_TYPES)
"""The actors the worker declares: one per message type."""
_REQUEST_ID = "request_id"
"""The one keyword argument on the wire: the message's optional ``request_id``."""


class DramatiqJobQueue:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker

    def enqueue_profile_build(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
        self._send(ProfileBuildMessage(user_id=user_id, profile_id=profile_id))

    def enqueue_render_job(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        self._send(RenderJobMessage(user_id=user_id, job_id=job_id))

    def enqueue_render_chunk(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, chunk_index: int
    ) -> None:
        self._send(RenderChunkMessage(user_id=user_id, job_id=job_id, chunk_index=chunk_index))

    def enqueue_webhook_delivery(
        self, message: WebhookDeliveryMessage, *, delay_s: float = 0.0
    ) -> None:
        self._send(message, delay_s=delay_s)

    def _send(self, message: JobMessage, *, delay_s: float = 0.0) -> None:
        """Send one message (``delay_s`` from now), with the request id in hand if it has
        none; QueueUnavailableError when Redis cannot be reached."""
        if message.request_id is None:
            message = attrs.evolve(message, request_id=current_request_id())
        actor_name = _ACTOR_NAMES[type(message)]
        envelope = dramatiq.Message(
            queue_name=QUEUE_NAME,
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


def encode_args(message: JobMessage) -> tuple[str | int, ...]:
    """The message's positional arguments on the wire, in field order: ids as strings."""
    return tuple(
        str(value) if isinstance(value, uuid.UUID) else value
        for value in (getattr(message, field.name) for field in _positional(type(message)))
    )


def encode_kwargs(message: JobMessage) -> dict[str, str]:
    """The message's keyword arguments on the wire: its ``request_id``, if it has one."""
    return {} if message.request_id is None else {_REQUEST_ID: message.request_id}


def decode_message(
    actor_name: str, args: Sequence[object], kwargs: Mapping[str, object] | None = None
) -> JobMessage:
    """The typed message that ``args`` and ``kwargs``, received by the actor ``actor_name``,
    encode; raises InvalidParamsError for an unknown actor or arguments that
    :class:`DramatiqJobQueue` would not have sent (a wrong count, an id that is not a UUID
    string, an index that is not an integer, a keyword other than ``request_id`` or an
    invalid request id)."""
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
    unknown = sorted(set(kwargs) - {_REQUEST_ID})
    if unknown:
        raise InvalidParamsError(
            f"{actor_name} takes only the keyword argument {_REQUEST_ID}, got {unknown}"
        )
    return message_type(
        **{
            field.name: _decoded_id(actor_name, field.name, arg) if field.type is uuid.UUID else arg
            for field, arg in zip(fields, args, strict=True)
        },
        request_id=kwargs.get(_REQUEST_ID),
    )


def _positional(message_type: type[JobMessage]) -> list[attrs.Attribute]:
    """The fields sent as positional arguments: all but the keyword-only ``request_id``."""
    return [field for field in attrs.fields(message_type) if not field.kw_only]


def _decoded_id(actor_name: str, name: str, arg: object) -> uuid.UUID:
    if type(arg) is str:
        try:
            return uuid.UUID(arg)
        except ValueError:
            pass
    raise InvalidParamsError(f"{actor_name} argument {name} must be a UUID string, got {arg!r}")
