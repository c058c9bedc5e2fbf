"""Who is calling: an API key (``Authorization: Bearer vxr_…``), or in development the brief's
stub, a UUID in the ``X-User-Id`` header taken on trust.

``VOXREGEN_AUTH_MODE`` chooses (:class:`~voxregen_adapters.settings.AuthMode`). In ``api_keys``
mode a missing, malformed, unknown or revoked key is a 401 with ``WWW-Authenticate: Bearer``
and ``X-User-Id`` is ignored; :mod:`voxregen_core.api_keys` says how keys are kept.

Every /v1 handler takes the caller from here and passes it to every repository call, so no
query can reach another user's rows. The caller is also kept in the request's state, for the
access log's line.
"""

import re
import uuid

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request

from voxregen_adapters.service import Service
from voxregen_adapters.settings import AuthMode
from voxregen_core.use_cases.api_keys import key_owner
from voxregen_http.errors import InvalidApiKeyError, UnauthenticatedError

HEADER = "X-User-Id"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_BEARER = re.compile(r"Bearer +(\S+) *", re.IGNORECASE)


async def authenticated_user(request: Request, service: Service) -> uuid.UUID:
    """The caller of ``request``; raises :class:`UnauthenticatedError` (401) when it has no
    valid credentials for the service's mode."""
    if service.settings.auth_mode is AuthMode.DEV_HEADER:
        user_id = _header_user(request.headers)
    else:
        user_id = await _key_user(request.headers, service)
    request.state.user_id = user_id
    structlog.contextvars.bind_contextvars(user_id=str(user_id))
    return user_id


def _header_user(headers: Headers) -> uuid.UUID:
    value = headers.get(HEADER)
    if value is None or not _UUID.fullmatch(value):
        shown = "missing" if value is None else "not a UUID"
        raise UnauthenticatedError(f"the {HEADER} header is {shown}; send the caller's UUID")
    return uuid.UUID(value)


async def _key_user(headers: Headers, service: Service) -> uuid.UUID:
    value = headers.get("Authorization")
    if value is None:
        raise UnauthenticatedError("send an API key: Authorization: Bearer vxr_…")
    bearer = _BEARER.fullmatch(value)
    if bearer is None:
        raise InvalidApiKeyError("the Authorization header is not 'Bearer <API key>'")
    user_id = await run_in_threadpool(key_owner, service.api_keys, service.clock, bearer[1])
    if user_id is None:
        raise InvalidApiKeyError("the API key is malformed, unknown or revoked")
    return user_id
