"""Request ids: the value that ties together every log line and queue message one API request
causes (``X-Request-Id``).

A caller's id is taken as it is if it is 1 to :data:`MAX_REQUEST_ID_CHARS` characters of
``[A-Za-z0-9._-]`` (what proxies and tracing systems send: UUIDs, hex, dotted ids), so it is safe
to log and to carry; anything else is replaced by :func:`new_request_id`, never refused.
"""

import re
import uuid

MAX_REQUEST_ID_CHARS = 128
_REQUEST_ID = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_REQUEST_ID_CHARS}}}")


def is_valid_request_id(value: object) -> bool:
    """Whether ``value`` is a string a request id may be: 1 to 128 of ``[A-Za-z0-9._-]``."""
    return isinstance(value, str) and _REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    """A fresh request id: a random UUID's 32 hex digits."""
    return uuid.uuid4().hex


def request_id_or_new(value: str | None) -> str:
    """``value`` if it is a valid request id, else a new one (for a missing or invalid header)."""
    return value if is_valid_request_id(value) else new_request_id()
