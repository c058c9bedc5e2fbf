"""Request bodies: the shapes each /v1 endpoint accepts, and the one cattrs converter that
builds them from JSON.

The converter is strict: unknown fields, missing fields and JSON of the wrong type are refused
(no ``"5"`` for a number, no ``5`` for a string, no ``true`` for a number), and every problem
is reported with its JSON path (``$.params``) as :class:`InvalidBodyError`, a 422. An empty
body counts as ``{}``. Render params are checked by :meth:`RenderParams.from_json`, so their
documented ranges hold at the edge.

Before any parsing, a body must be small (``MAX_JSON_BODY_BYTES``, 413 otherwise: the largest
legitimate body is under 1 KiB, so a huge one is refused before it is buffered whole) and, when
not empty, declared ``application/json`` (415 otherwise: a form post or ``text/plain`` is a
client's mistake, better named than parsed by luck).
"""

import json
import math
import re
import uuid
from collections.abc import Iterator
from typing import Any, NewType, TypeVar

import anyio
import attrs
import cattrs
from cattrs.errors import ClassValidationError
from starlette.requests import Request

from voxregen_core import spec
from voxregen_core.errors import UploadTooLargeError
from voxregen_core.params import RenderParams
from voxregen_core.profiles import MAX_NAME_CHARS
from voxregen_http.errors import (
    BodyTooLargeError,
    InvalidBodyError,
    MalformedJsonError,
    Problem,
    UnsupportedMediaTypeError,
)

MAX_JSON_BODY_BYTES = 64 * 1024
"""The largest /v1 request body: 64 times the largest legitimate one."""

STREAMED_PIECE_BYTES = 1 << 20
"""An upload's body goes to storage a MiB at a time (:func:`streamed_body`), and a download
comes from it the same way."""

ProfileName = NewType("ProfileName", str)
"""1 to ``MAX_NAME_CHARS`` characters, not blank, without control characters."""
ClipSeconds = NewType("ClipSeconds", float)
"""A clip's duration in seconds: more than 0, at most the 8-minute input limit. Optional where
it is only the client's estimate (a reference's, which the profile build measures): left out,
not ``null``."""
ParamsOverrides = NewType("ParamsOverrides", dict)
"""A JSON object of render params fields, applied over another job's params."""
WebhookUrl = NewType("WebhookUrl", str)
"""Where the job's webhooks go; left out for none (not ``null``)."""
WebhookEvents = NewType("WebhookEvents", list)
"""A list of event names (strings); left out for the default, ``["completed"]``."""


@attrs.frozen
class NewProfile:
    name: ProfileName


@attrs.frozen
class ReferenceCommit:
    ref_id: uuid.UUID
    object_key: str
    duration_sec: ClipSeconds | None = None
    """Advisory: the profile build stores the duration it measures from the clip."""


@attrs.frozen
class NewRenderJob:
    singer_profile_id: uuid.UUID
    input_object_key: str
    params: RenderParams = attrs.field(factory=RenderParams)
    webhook_url: WebhookUrl | None = None
    webhook_events: WebhookEvents | None = None


@attrs.frozen
class RenderJobClone:
    params: ParamsOverrides = attrs.field(factory=lambda: ParamsOverrides({}))
    webhook_url: WebhookUrl | None = None
    webhook_events: WebhookEvents | None = None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 (U+0085 is blank to strip)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _string(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {_json_type(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # JSON's "\ud800": a lone surrogate, not text
        raise ValueError("expected Unicode text, got a lone surrogate") from None
    return value


def _uuid(value: Any, _: type) -> uuid.UUID:
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        raise ValueError(f"expected a UUID string, got {_shown(value)}")
    return uuid.UUID(value)


def _profile_name(value: Any, _: type) -> ProfileName:
    name = _string(value, str)
    if not name.strip() or len(name) > MAX_NAME_CHARS:
        raise ValueError(
            f"expected 1 to {MAX_NAME_CHARS} characters, not blank; got {len(name)} characters"
        )
    if _CONTROL.search(name):
        raise ValueError("expected no control characters (tab, line break, NUL, ...)")
    return ProfileName(name)


def _clip_seconds(value: Any, _: type) -> ClipSeconds:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number of seconds, got {_json_type(value)}")
    if not 0 < value <= spec.MAX_INPUT_S:
        raise ValueError(f"expected more than 0 and at most {spec.MAX_INPUT_S:g} s, got {value!r}")
    return ClipSeconds(float(value))


def _webhook_url(value: Any, _: type) -> WebhookUrl:
    return WebhookUrl(_string(value, str))


def _webhook_events(value: Any, _: type) -> WebhookEvents:
    if not isinstance(value, list) or not all(isinstance(event, str) for event in value):
        raise TypeError(f"expected a list of event names, got {_json_type(value)}")
    return WebhookEvents(value)


def _json_object(value: Any, _: type) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {_json_type(value)}")
    return value


def _render_params(value: Any, _: type) -> RenderParams:
    return RenderParams.from_json(_json_object(value, dict))  # InvalidParamsError is a ValueError


converter = cattrs.Converter()
"""The HTTP boundary's converter: JSON objects to the body classes above (unknown fields are
reported by :func:`structure`, with every other problem)."""
converter.register_structure_hook(str, _string)
converter.register_structure_hook(uuid.UUID, _uuid)
converter.register_structure_hook(ProfileName, _profile_name)
converter.register_structure_hook(ClipSeconds, _clip_seconds)
converter.register_structure_hook(ClipSeconds | None, _clip_seconds)  # absent, never null
converter.register_structure_hook(ParamsOverrides, _json_object)
converter.register_structure_hook(WebhookUrl | None, _webhook_url)  # absent, never null
converter.register_structure_hook(WebhookEvents | None, _webhook_events)
converter.register_structure_hook(RenderParams, _render_params)

Body = TypeVar("Body")


def structure(data: Any, body_type: type[Body]) -> Body:
    """``data`` (decoded JSON) as ``body_type``; raises :class:`InvalidBodyError` listing every
    problem with its JSON path."""
    if not isinstance(data, dict):
        raise InvalidBodyError([Problem("$", f"expected a JSON object, got {_json_type(data)}")])
    fields = {field.name for field in attrs.fields(body_type)}
    problems = [
        Problem(_member_path(name), f"unknown field; allowed: {', '.join(sorted(fields))}")
        for name in data
        if name not in fields
    ]
    try:
        body = converter.structure({k: v for k, v in data.items() if k in fields}, body_type)
    except ClassValidationError as error:
        messages = cattrs.transform_error(error, path="$", format_exception=_describe)
        problems += [Problem(*reversed(message.rsplit(" @ ", 1))) for message in messages]
    if problems:
        raise InvalidBodyError(problems)
    return body


async def bounded_body(request: Request, max_bytes: int) -> bytes | None:
    """The request body, or None as soon as it (or its declared length) exceeds ``max_bytes``."""
    if _declared_over(request, max_bytes):
        return None
    chunks, size_bytes = [], 0
    async for chunk in request.stream():
        size_bytes += len(chunk)
        if size_bytes > max_bytes:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def streamed_body(request: Request, max_bytes: int) -> Iterator[bytes]:
    """The request body in pieces of about :data:`STREAMED_PIECE_BYTES`, for a worker thread
    (``run_in_threadpool``) to store while the event loop receives the rest: memory stays at a
    piece whatever the body's size. Raises :class:`UploadTooLargeError` as soon as the body (or
    its declared length) exceeds ``max_bytes``, and ``ClientDisconnect`` if the client goes."""
    if _declared_over(request, max_bytes):
        raise _too_large(max_bytes)
    chunks = request.stream()

    async def next_piece() -> bytes:
        piece = bytearray()
        async for chunk in chunks:  # leaving the loop early does not close the stream
            piece += chunk
            if len(piece) >= STREAMED_PIECE_BYTES:
                break
        return bytes(piece)

    size_bytes = 0
    while piece := anyio.from_thread.run(next_piece):
        size_bytes += len(piece)
        if size_bytes > max_bytes:
            raise _too_large(max_bytes)
        yield piece


def _declared_over(request: Request, max_bytes: int) -> bool:
    """Whether the request's ``Content-Length`` says its body is over ``max_bytes``."""
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > max_bytes


def _too_large(max_bytes: int) -> UploadTooLargeError:
    return UploadTooLargeError(f"the upload is over the limit of {max_bytes} bytes")


async def read_raw_body(request: Request) -> bytes:
    """The body of a /v1 request; raises :class:`BodyTooLargeError` (413) above
    ``MAX_JSON_BODY_BYTES``."""
    raw = await bounded_body(request, MAX_JSON_BODY_BYTES)
    if raw is None:
        raise BodyTooLargeError(f"the body is over the limit of {MAX_JSON_BODY_BYTES} bytes")
    return raw


def parse_body(request: Request, raw: bytes, body_type: type[Body]) -> Body:
    """The request's JSON body ``raw`` (as :func:`read_raw_body` read it) as ``body_type``;
    raises :class:`UnsupportedMediaTypeError` (415), :class:`MalformedJsonError` (400) or
    :class:`InvalidBodyError` (422)."""
    if not raw.strip():
        return structure({}, body_type)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        shown = f"is {media_type!r}" if media_type else "is missing"
        raise UnsupportedMediaTypeError(
            f"the Content-Type {shown[:120]}; send the body as application/json"
        )
    return structure(_decoded(raw), body_type)


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, too many int digits
        raise MalformedJsonError(f"the body is not valid JSON: {error}") from None
    except RecursionError:  # "[[[[…": valid JSON nested deeper than Python's stack
        raise MalformedJsonError("the body's JSON nests too deeply") from None


def _refuse_constant(name: str) -> float:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _member_path(name: str) -> str:
    return f"$.{name}" if name.isidentifier() else f"$[{json.dumps(name)}]"


def _describe(error: BaseException, _type: Any) -> str:
    if isinstance(error, KeyError):
        return "required field missing"
    if isinstance(error, TypeError | ValueError):
        return str(error)
    return cattrs.v.format_exception(error, _type)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else "NaN"
    return text if len(text) <= 80 else text[:77] + "..."
