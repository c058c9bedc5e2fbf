"""The job queue's messages: what a worker is asked to do, as ids only (never audio).

:class:`~voxregen_core.ports.JobQueue` has one method per message; its in-memory fake records
these values and the Dramatiq adapter encodes them (its actor names and wire format are its
own business) and decodes them back to exactly these values in the worker.

Every message may carry the ``request_id`` of the API request that caused it
(:mod:`voxregen_core.request_ids`), keyword-only and ``None`` by default: the worker binds it
in its log context while it handles the message, and the messages it queues meanwhile (a
job's chunks, its webhook deliveries and their retries) carry it on.
"""

import uuid
from typing import Any

import attrs

from voxregen_core.errors import InvalidParamsError
from voxregen_core.request_ids import MAX_REQUEST_ID_CHARS, is_valid_request_id


def _uuid(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, uuid.UUID):
        raise InvalidParamsError(
            f"{type(instance).__name__}.{attribute.name} must be a uuid.UUID, "
            f"got {type(value).__name__} {value!r}"
        )


def _chunk_index(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParamsError(
            f"{type(instance).__name__}.{attribute.name} must be an integer >= 0, "
            f"got {type(value).__name__} {value!r}"
        )


def _request_id(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if value is not None and not is_valid_request_id(value):
        raise InvalidParamsError(
            f"{type(instance).__name__}.{attribute.name} must be None or 1 to "
            f"{MAX_REQUEST_ID_CHARS} characters of [A-Za-z0-9._-], got {value!r}"
        )


def _request_id_field() -> Any:
    """The optional, keyword-only ``request_id`` every message has."""
    return attrs.field(default=None, kw_only=True, validator=_request_id)


@attrs.frozen
class ProfileBuildMessage:
    """Build the user's singer profile from its references."""

    user_id: uuid.UUID = attrs.field(validator=_uuid)
    profile_id: uuid.UUID = attrs.field(validator=_uuid)
    request_id: str | None = _request_id_field()


@attrs.frozen
class RenderJobMessage:
    """Start (or resume) the user's render job: prepare it and fan its chunks out."""

    user_id: uuid.UUID = attrs.field(validator=_uuid)
    job_id: uuid.UUID = attrs.field(validator=_uuid)
    request_id: str | None = _request_id_field()


@attrs.frozen
class RenderChunkMessage:
    """Generate and store chunk ``chunk_index`` (from 0) of the user's running render job."""

    user_id: uuid.UUID = attrs.field(validator=_uuid)
    job_id: uuid.UUID = attrs.field(validator=_uuid)
    chunk_index: int = attrs.field(validator=_chunk_index)
    request_id: str | None = _request_id_field()


@attrs.frozen
class WebhookDeliveryMessage:
    """POST the user's job's ``event`` webhook (attempt ``attempt``, from 1) as delivery
    ``webhook_id`` (the same on every attempt)."""

    user_id: uuid.UUID = attrs.field(validator=_uuid)
    job_id: uuid.UUID = attrs.field(validator=_uuid)
    event: str = attrs.field(validator=attrs.validators.in_(("started", "progress", "completed")))
    webhook_id: str = attrs.field(validator=attrs.validators.matches_re(r"msg_[0-9a-f]{32}"))
    attempt: int = attrs.field(default=1, validator=_chunk_index)
    request_id: str | None = _request_id_field()


JobMessage = ProfileBuildMessage | RenderJobMessage | RenderChunkMessage | WebhookDeliveryMessage
"""Every message the job queue carries."""
