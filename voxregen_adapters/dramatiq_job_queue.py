"""``DramatiqJobQueue``: the :class:`~voxregen_core.ports.JobQueue` port over a Dramatiq broker,
and the only place that knows the queue's actor names and how a message is encoded.

The API process does not import the worker's actors (the two packages never import each
other), so messages are built here by actor name; the worker declares its actors by the same
names (:data:`ACTOR_NAMES`) and turns what they receive back into the typed message with
:func:`decode_message`. Every voxregen actor consumes Dramatiq's ``default`` queue.

Wire format: positional arguments, JSON primitives only, ids as their canonical strings.

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
from collections.abc import Sequence

import attrs
import dramatiq
import redis

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
        """Send one message (``delay_s`` from now); QueueUnavailableError when Redis cannot be
        reached."""
        actor_name = _ACTOR_NAMES[type(message)]
        envelope = dramatiq.Message(
            queue_name=QUEUE_NAME,
            actor_name=actor_name,
            args=encode_args(message),
            kwargs={},
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
        for value in attrs.astuple(message, recurse=False)
    )


def decode_message(actor_name: str, args: Sequence[object]) -> JobMessage:
    """The typed message that ``args``, received by the actor ``actor_name``, encode; raises
    InvalidParamsError for an unknown actor or arguments that :class:`DramatiqJobQueue` would
    not have sent (a wrong count, an id that is not a UUID string, an index that is not an
    integer)."""
    message_type = _MESSAGE_TYPES.get(actor_name)
    if message_type is None:
        raise InvalidParamsError(
            f"unknown actor {actor_name!r}; known: {', '.join(sorted(ACTOR_NAMES))}"
        )
    fields = attrs.fields(message_type)
    if len(args) != len(fields):
        names = ", ".join(field.name for field in fields)
        raise InvalidParamsError(
            f"{actor_name} takes {len(fields)} arguments ({names}), got {len(args)}"
        )
    return message_type(
        **{
            field.name: _decoded_id(actor_name, field.name, arg) if field.type is uuid.UUID else arg
            for field, arg in zip(fields, args, strict=True)
        }
    )


def _decoded_id(actor_name: str, name: str, arg: object) -> uuid.UUID:
    if type(arg) is str:
        try:
            return uuid.UUID(arg)
        except ValueError:
            pass
    raise InvalidParamsError(f"{actor_name} argument {name} must be a UUID string, got {arg!r}")
