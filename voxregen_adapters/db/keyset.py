"""Keyset pagination for the repositories' ``list_page``: newest first, after a position.

Rows are ordered ``created_at DESC, id DESC`` (the id breaks ties between rows of one
transaction, whose ``now()`` is the same) and a page starts strictly after the position the
previous one ended on, by a row comparison the ``(user_id, created_at, id)`` indexes serve.
"""

import sqlalchemy as sa

from voxregen_core.pagination import PageRequest


def newest_first_page(query: sa.Select, table: sa.Table, page: PageRequest) -> sa.Select:
    """``query`` (already scoped to one user's rows of ``table``) as the page ``page`` asks
    for: ``page.limit + 1`` rows at most, so the caller can tell whether there is a next page."""
    if page.after is not None:
        query = query.where(
            sa.tuple_(table.c.created_at, table.c.id)
            < sa.tuple_(sa.literal(page.after.created_at), sa.literal(page.after.id))
        )
    return query.order_by(table.c.created_at.desc(), table.c.id.desc()).limit(page.limit + 1)
