"""Errors as HTTP responses: one table from error class to status code, and the JSON body
every error response has: ``{"error": {"code", "message", "problems"?}}``.

The table is looked up along the raised class's MRO, so a subclass inherits its parent's
status unless it has a row of its own. The errors that only the HTTP edge raises (a request
without a caller, a body too large, of another media type or that does not parse) are defined
here.
"""

import math
from collections.abc import Sequence

import attrs
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from voxregen_core.errors import (
    ConflictError,
    DatabaseUnavailableError,
    ExpiredError,
    InputChangedError,
    InvalidCursorError,
    InvalidInputError,
    InvalidKeyError,
    InvalidParamsError,
    NotFoundError,
    NotReadyError,
    ObjectNotFoundError,
    QueueUnavailableError,
    RetryLaterError,
    StorageUnavailableError,
    VoxregenError,
)
from voxregen_core.idempotency import IdempotencyKeyInUseError, InvalidIdempotencyKeyError

REALM = "voxregen"


class UnauthenticatedError(VoxregenError):
    """Raised when a /v1 request has no credentials: no API key, or (in development mode) no
    ``X-User-Id`` header holding a UUID."""

    code = "unauthenticated"


class InvalidApiKeyError(UnauthenticatedError):
    """Raised when a /v1 request's ``Authorization`` is not a bearer key this service made
    and has not revoked."""

    code = "invalid_api_key"


@attrs.frozen
class Problem:
    """One thing wrong with a request body: where (a JSON path such as ``$.params.intensity``)
    and what."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class RequestProblemsError(VoxregenError):
    """An error listing each thing wrong with a request, each answered in ``problems``."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.message} @ {p.path}" for p in self.problems))


class InvalidBodyError(RequestProblemsError, InvalidParamsError):
    """Raised when a request body is not JSON, or has unknown, missing, wrong-typed or
    out-of-range fields."""

    code = "invalid_body"


class InvalidQueryError(RequestProblemsError):
    """Raised when a request's query string has unknown, repeated or invalid parameters."""

    code = "invalid_query"


class MalformedJsonError(VoxregenError):
    """Raised when a request body is not well-formed JSON."""

    code = "malformed_json"


class BodyTooLargeError(VoxregenError):
    """Raised when a /v1 request body is larger than any legitimate one."""

    code = "body_too_large"


class UnsupportedMediaTypeError(VoxregenError):
    """Raised when a /v1 request has a body that is not declared ``application/json``."""

    code = "unsupported_media_type"


STATUS_CODES: dict[type[VoxregenError], int] = {
    MalformedJsonError: 400,
    InvalidQueryError: 400,
    InvalidIdempotencyKeyError: 400,
    IdempotencyKeyInUseError: 409,
    InvalidCursorError: 400,
    UnauthenticatedError: 401,
    NotFoundError: 404,
    ObjectNotFoundError: 404,
    ConflictError: 409,
    NotReadyError: 409,
    InputChangedError: 409,
    ExpiredError: 410,
    BodyTooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    InvalidParamsError: 422,
    InvalidKeyError: 422,
    InvalidInputError: 422,
    RetryLaterError: 429,
    DatabaseUnavailableError: 503,
    StorageUnavailableError: 503,
    QueueUnavailableError: 503,
    VoxregenError: 500,
}


def status_code(error: VoxregenError) -> int:
    """The status of ``error``: the row of its nearest class in :data:`STATUS_CODES`."""
    return next(STATUS_CODES[cls] for cls in type(error).__mro__ if cls in STATUS_CODES)


def error_response(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


async def voxregen_error(request: Request, error: VoxregenError) -> JSONResponse:
    status = status_code(error)
    if status >= 500:
        structlog.get_logger().warning("request_failed", code=error.code, message=error.message)
    extra = (
        {"problems": [p.to_json() for p in error.problems]}
        if isinstance(error, RequestProblemsError)
        else {}
    )
    response = error_response(status, error.code, error.message, **extra)
    response.headers.update(_headers(error))
    return response


def _headers(error: VoxregenError) -> dict[str, str]:
    """The headers an error's answer carries: the challenge of a 401 (RFC 6750), when to come
    back after a 429 (whole seconds, rounded up)."""
    if isinstance(error, InvalidApiKeyError):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'}
    if isinstance(error, UnauthenticatedError):
        return {"WWW-Authenticate": f'Bearer realm="{REALM}"'}
    if isinstance(error, RetryLaterError):
        return {"Retry-After": str(max(1, math.ceil(error.retry_after_s)))}
    return {}


async def http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own errors (no such route, method not allowed) in the same JSON shape."""
    codes = {404: "not_found", 405: "method_not_allowed"}
    response = error_response(
        error.status_code, codes.get(error.status_code, "http_error"), error.detail
    )
    response.headers.update(error.headers or {})
    return response


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    """Anything else is a bug: logged with its traceback, answered without details."""
    structlog.get_logger().error("unhandled_error", exc_info=error)
    return error_response(500, "internal_error", "internal error; see the server's log")


EXCEPTION_HANDLERS = {
    VoxregenError: voxregen_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
