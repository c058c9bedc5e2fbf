"""Query strings: the parameters each list endpoint accepts, parsed strictly.

An unknown or repeated parameter, a ``limit`` that is not a whole number from 1 to 100, a
``status`` that is no job status or a ``singer_profile_id`` that is no UUID is refused with
:class:`~voxregen_http.errors.InvalidQueryError` (400), every problem named by its parameter
(``query.limit``). A cursor is checked by the use case (another list's or user's is a 400 too).
"""

import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from starlette.datastructures import QueryParams

from voxregen_core.jobs import JobStatus
from voxregen_core.pagination import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT
from voxregen_http.errors import InvalidQueryError, Problem

MAX_CURSOR_CHARS = 1000
"""Far above any cursor the API gives (under 250 characters)."""

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@attrs.frozen
class ListQuery:
    """``?limit=&cursor=``: a page of a list."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@attrs.frozen
class JobListQuery(ListQuery):
    """A page of render jobs, optionally only those with ``status`` and of
    ``singer_profile_id``."""

    status: JobStatus | None = None
    singer_profile_id: uuid.UUID | None = None


def _limit(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not MIN_LIMIT <= int(text) <= MAX_LIMIT:
        raise ValueError(f"expected a whole number from {MIN_LIMIT} to {MAX_LIMIT}")
    return int(text)


def _cursor(text: str) -> str:
    if not 1 <= len(text) <= MAX_CURSOR_CHARS:
        raise ValueError("expected the next_cursor of a previous page")
    return text


def _status(text: str) -> JobStatus:
    try:
        return JobStatus(text)
    except ValueError:
        raise ValueError(
            f"expected one of {', '.join(status.value for status in JobStatus)}"
        ) from None


def _uuid(text: str) -> uuid.UUID:
    if not _UUID.fullmatch(text):
        raise ValueError("expected a UUID")
    return uuid.UUID(text)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "limit": _limit,
    "cursor": _cursor,
    "status": _status,
    "singer_profile_id": _uuid,
}

Query = TypeVar("Query", bound=ListQuery)


def read_query(params: QueryParams, query_type: type[Query]) -> Query:
    """``params`` as ``query_type``; raises :class:`InvalidQueryError` listing every problem."""
    allowed = [field.name for field in attrs.fields(query_type)]
    values: dict[str, Any] = {}
    problems = []
    for name, text in params.multi_items():
        path = f"query.{name[:80]}"
        if name not in allowed:
            problems.append(Problem(path, f"unknown parameter; allowed: {', '.join(allowed)}"))
        elif name in values:
            problems.append(Problem(path, "given more than once"))
        else:
            try:
                values[name] = _PARSERS[name](text)
            except ValueError as error:
                values[name] = None
                problems.append(Problem(path, f"{error}, got {text[:80]!r}"))
    if problems:
        raise InvalidQueryError(problems)
    return query_type(**values)
