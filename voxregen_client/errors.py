"""The client's errors, rooted in :class:`VoxregenClientError`.

An answer of the API that is not a success becomes a :class:`VoxregenApiError` carrying the
HTTP ``status`` and the body's ``{"error": {"code", "message"}}``; its class is the row of
:data:`BY_STATUS` for that status (the base class for any other status). The code is the one to
branch on: ``not_found``, ``not_ready``, ``profile_in_use``, ``rate_limited``, …
"""

from collections.abc import Sequence
from typing import Any

import httpx


class VoxregenClientError(Exception):
    """Raised for every failure of a client call (the subclasses say which)."""


class ConfigurationError(VoxregenClientError):
    """Raised when the client's settings (its arguments or ``VOXREGEN_*`` variables) are
    missing or malformed."""


class ServiceUnreachableError(VoxregenClientError):
    """Raised when the service (or its storage) could not be reached, or the connection
    failed, on every attempt."""


class UnexpectedResponseError(VoxregenClientError):
    """Raised when a success answer is not JSON: the base URL is not the voxregen API's."""


class WaitTimeoutError(VoxregenClientError, TimeoutError):
    """Raised when a profile or job is still not finished after the wait's ``timeout_s``."""


class ProfileBuildError(VoxregenClientError):
    """Raised when a profile waited for ends in ``error`` instead of ``ready``."""

    def __init__(self, profile_id: str, stats: dict[str, Any]) -> None:
        super().__init__(f"profile {profile_id} failed to build: {stats}")
        self.profile_id = profile_id
        self.stats = stats


class WebhookVerificationError(VoxregenClientError):
    """Raised when a webhook delivery's headers are missing, its timestamp is outside the
    tolerance, or no signature matches its body."""


class VoxregenApiError(VoxregenClientError):
    """Raised when the API answers an error: ``status`` (HTTP), ``code`` and ``message`` (the
    body's), ``problems`` (each ``{"path", "message"}`` of an ``invalid_body``)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        problems: Sequence[dict[str, str]] = (),
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.problems = tuple(problems)
        self.retry_after_s = retry_after_s
        """The answer's ``Retry-After``, in seconds, if it had one."""


class BadRequestError(VoxregenApiError):
    """Raised on a 400: a malformed body, query, cursor or ``Idempotency-Key``."""


class UnauthenticatedError(VoxregenApiError):
    """Raised on a 401: no API key, or one that is malformed, unknown or revoked."""


class NotFoundError(VoxregenApiError):
    """Raised on a 404: no such profile, job or upload for the caller (another user's is
    answered the same way)."""


class ConflictError(VoxregenApiError):
    """Raised on a 409: the resource is not in the state the request needs (``not_ready``,
    ``job_finished``, ``profile_in_use``, …)."""


class GoneError(VoxregenApiError):
    """Raised on a 410: the job's input (``input_expired``) or output (``output_expired``) was
    deleted by the retention policy."""


class InvalidRequestError(VoxregenApiError):
    """Raised on a 422: a field is unknown, missing or out of range (``problems`` names each)."""


class RateLimitedError(VoxregenApiError):
    """Raised on a 429 still answered after the last retry (``rate_limited``,
    ``too_many_active_jobs``)."""


class ServiceUnavailableError(VoxregenApiError):
    """Raised on a 503 still answered after the last retry: the service's database, storage
    or queue is unreachable."""


BY_STATUS: dict[int, type[VoxregenApiError]] = {
    400: BadRequestError,
    401: UnauthenticatedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: InvalidRequestError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def api_error(response: httpx.Response, *, retry_after_s: float | None = None) -> VoxregenApiError:
    """The typed error of an error ``response`` (read): the body's code and message, or, for a
    body not in the API's shape (a proxy's page), ``http_<status>`` and the start of the text."""
    cls = BY_STATUS.get(response.status_code, VoxregenApiError)
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        problems = error.get("problems", ())
    except (ValueError, KeyError, TypeError):
        code, message, problems = f"http_{response.status_code}", response.text[:200], ()
    return cls(response.status_code, code, message, problems=problems, retry_after_s=retry_after_s)
