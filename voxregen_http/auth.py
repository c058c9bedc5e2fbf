"""Who is calling: the dev-stub authentication of the brief, a UUID in the ``X-User-Id`` header.

Every /v1 handler takes the caller from here and passes it to every repository call, so no
query can reach another user's rows.
"""

import re
import uuid

from starlette.datastructures import Headers

from voxregen_http.errors import UnauthenticatedError

HEADER = "X-User-Id"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def user_id_or_none(headers: Headers) -> uuid.UUID | None:
    """The caller's id, or None when the header is missing or not a hyphenated UUID."""
    value = headers.get(HEADER)
    if value is None or not _UUID.fullmatch(value):
        return None
    return uuid.UUID(value)


def caller(headers: Headers) -> uuid.UUID:
    """The caller's id; raises :class:`UnauthenticatedError` (401) without a valid header."""
    user_id = user_id_or_none(headers)
    if user_id is None:
        shown = "missing" if HEADER not in headers else "not a UUID"
        raise UnauthenticatedError(f"the {HEADER} header is {shown}; send the caller's UUID")
    return user_id
