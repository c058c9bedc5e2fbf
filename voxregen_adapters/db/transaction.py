"""One transaction on a pooled connection, with driver errors translated into port errors."""

import contextlib
from collections.abc import Iterator

import psycopg
import sqlalchemy as sa

from voxregen_core.errors import ConflictError, DatabaseUnavailableError, NotFoundError


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """A duplicate key becomes :class:`ConflictError`, a reference to a row that is gone
    :class:`NotFoundError`, and a database that cannot be reached
    :class:`DatabaseUnavailableError`."""
    try:
        yield
    except sa.exc.IntegrityError as error:
        cause = error.orig
        if isinstance(cause, psycopg.errors.UniqueViolation):
            raise ConflictError(f"{cause.diag.table_name}: {cause.diag.message_detail}") from None
        if isinstance(cause, psycopg.errors.ForeignKeyViolation):
            raise NotFoundError(f"{cause.diag.table_name}: {cause.diag.message_detail}") from None
        raise
    except sa.exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0]
        raise DatabaseUnavailableError(f"cannot use the database: {reason}") from error


@contextlib.contextmanager
def transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction: committed when the block ends, rolled back if it
    raises; errors translated as by :func:`translated_errors`."""
    with translated_errors(), engine.begin() as connection:
        yield connection


def locked_row(
    connection: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool]
) -> sa.Row | None:
    """The row of ``table`` that ``where`` picks, locked until the transaction ends (``FOR
    UPDATE``), or None."""
    return connection.execute(sa.select(table).where(where).with_for_update()).first()
