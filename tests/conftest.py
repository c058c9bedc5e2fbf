"""Test-wide settings and the real services the integration and contract tests share.

Hypothesis: no deadline (DSP example timing varies on a loaded 2-core machine); CI
derandomizes so a run is reproducible.

Services: PostgreSQL and Redis are the machine's own when ``VOXREGEN_TEST_DATABASE_URL`` /
``VOXREGEN_TEST_REDIS_URL`` are set (``.ci/run`` sets them to 127.0.0.1:5432 and :6379), the
embedded ones (``voxregen_adapters.embedded``) otherwise, started once per session. Each test
that needs a database gets its own.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (SQLAlchemy form)."""
    url = os.environ.get("VOXREGEN_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from voxregen_adapters.embedded import start_postgres

    server = start_postgres(tmp_path_factory.mktemp("embedded-postgres"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("VOXREGEN_TEST_REDIS_URL")
    if url:
        yield url
        return
    from voxregen_adapters.embedded import start_redis

    server = start_redis(tmp_path_factory.mktemp("embedded-redis"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def fresh_database_url(database_url) -> Iterator[str]:
    """A new, empty database for this test alone, dropped afterwards."""
    name = f"voxregen_test_{uuid.uuid4().hex}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(database_url)
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
