"""Lists in pages, newest first, with opaque cursors (keyset pagination).

A page is asked for with a ``limit`` and the cursor the previous page ended with. A cursor names
a position in the list, not an offset: the ``(created_at, id)`` of the last item given, so the
next page starts strictly after it in the order ``created_at DESC, id DESC``. Rows inserted
meanwhile never shift a page, and no item is given twice or skipped.

A cursor is base64url JSON holding that position, the list it belongs to (``render-jobs``,
``singer-profiles``, the references of one profile) and a digest of the user's id: it is bound
to both, so another list's or another user's cursor is refused with
:class:`~voxregen_core.errors.InvalidCursorError` rather than read as a position. Clients treat
it as opaque; its content is not a promise.
"""

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Generic, TypeVar

import attrs

from voxregen_core.errors import InvalidCursorError, InvalidParamsError

MIN_LIMIT = 1
MAX_LIMIT = 100
DEFAULT_LIMIT = 20

_VERSION = 1
T = TypeVar("T")


@attrs.frozen
class PagePosition:
    """Where a page ended: the ``created_at`` and ``id`` of its last item."""

    created_at: datetime
    id: uuid.UUID


@attrs.frozen
class PageRequest:
    """What a list is asked for: at most ``limit`` items after ``after`` (from the start when
    None)."""

    limit: int = DEFAULT_LIMIT
    after: PagePosition | None = None


@attrs.frozen
class Page(Generic[T]):
    """Items in list order, and the cursor of the next page (None on the last page)."""

    items: Sequence[T]
    next_cursor: str | None


def page_request(
    *, user_id: uuid.UUID, list_name: str, limit: int, cursor: str | None
) -> PageRequest:
    """The request a client's ``limit`` and ``cursor`` make, checked.

    Raises :class:`InvalidParamsError` outside ``MIN_LIMIT``..``MAX_LIMIT`` and
    :class:`InvalidCursorError` for a cursor that is not one of ``list_name``'s for this user.
    """
    if not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise InvalidParamsError(f"limit must be from {MIN_LIMIT} to {MAX_LIMIT}, got {limit}")
    after = None if cursor is None else _decoded(cursor, user_id=user_id, list_name=list_name)
    return PageRequest(limit=limit, after=after)


def page_of(
    rows: Sequence[T], request: PageRequest, *, user_id: uuid.UUID, list_name: str
) -> Page[T]:
    """The page for ``request`` from ``rows``: the list's items after ``request.after``, in list
    order, ``request.limit + 1`` at most (the one past the limit only says there is a next page).
    Each item has ``created_at`` and ``id``."""
    items = list(rows[: request.limit])
    if len(rows) <= request.limit:
        return Page(items=items, next_cursor=None)
    last = items[-1]
    position = PagePosition(created_at=last.created_at, id=last.id)
    return Page(items=items, next_cursor=_encoded(position, user_id=user_id, list_name=list_name))


def _user_digest(user_id: uuid.UUID) -> str:
    return hashlib.sha256(user_id.bytes).hexdigest()[:16]


def _encoded(position: PagePosition, *, user_id: uuid.UUID, list_name: str) -> str:
    content = {
        "v": _VERSION,
        "list": list_name,
        "user": _user_digest(user_id),
        "created_at": position.created_at.isoformat(),
        "id": str(position.id),
    }
    text = json.dumps(content, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def _decoded(cursor: str, *, user_id: uuid.UUID, list_name: str) -> PagePosition:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        content = json.loads(text)
        position = PagePosition(
            created_at=datetime.fromisoformat(content["created_at"]), id=uuid.UUID(content["id"])
        )
        version, cursor_list, cursor_user = content["v"], content["list"], content["user"]
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        raise InvalidCursorError(
            "the cursor is not one this API gave; start from the first page"
        ) from None
    if version != _VERSION or position.created_at.tzinfo is None:
        raise InvalidCursorError("the cursor is not one this API gave; start from the first page")
    if cursor_list != list_name or cursor_user != _user_digest(user_id):
        raise InvalidCursorError(
            "the cursor belongs to another list or another caller; use the next_cursor of this list"
        )
    return position
