"""A new database of a test's own, and a database migrated to head, for the PostgreSQL
adapters' tests."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.db.migrate import upgrade


def migrated_engine(database_url: str) -> sa.Engine:
    """Upgrade the (fresh) database at ``database_url`` to head; an engine on it, which the
    caller disposes."""
    upgrade(database_url)
    return create_database_engine(database_url)


@contextmanager
def engine_on(database_url: str) -> Iterator[sa.Engine]:
    """An engine of the test's own on the database at ``database_url``, disposed afterwards
    (the service keeps its engine inside its repositories)."""
    engine = create_database_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def connected(database_url: str) -> Iterator[sa.Connection]:
    """A connection to the database at ``database_url`` (:func:`engine_on`)."""
    with engine_on(database_url) as engine, engine.connect() as connection:
        yield connection


@contextmanager
def new_database(database_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the server of ``database_url`` (a maintenance
    database), dropped afterwards (``WITH (FORCE)``: connections left open do not stop it)."""
    name = f"voxregen_test_{uuid.uuid4().hex}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(database_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
