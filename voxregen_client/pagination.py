"""Walking a list of the API page by page, following ``next_cursor``."""

from collections.abc import Callable, Iterator
from typing import TypeVar

from voxregen_client.models import Page

T = TypeVar("T")


def every_item(page_at: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of the list whose page at a cursor (None: the first) ``page_at`` fetches,
    in order; each page is fetched only once the previous one's items were consumed."""
    cursor = None
    while True:
        page = page_at(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
