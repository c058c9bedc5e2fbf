"""Test-wide settings and the real services the integration and contract tests share.

Hypothesis: no deadline (DSP example timing varies on a loaded 2-core machine); CI
derandomizes so a run is reproducible.

Services: PostgreSQL and Redis are the machine's own when ``VOXREGEN_TEST_DATABASE_URL`` /
``VOXREGEN_TEST_REDIS_URL`` are set (``.ci/run`` sets them to 127.0.0.1:5432 and :6379), the
embedded ones (``voxregen_adapters.embedded``) otherwise, started once per session. Each test
that needs a database gets its own.
"""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.integration.migrated_database import new_database
from tests.integration.moto_server import moto_s3_endpoint
from tests.realistic_stems import StemCorpus
from voxregen_adapters import embedded

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def _service_url(environ_name: str, start_embedded, folder) -> Iterator[str]:
    """The URL in ``environ_name`` if set, else that of an embedded server run for the session."""
    url = os.environ.get(environ_name)
    if url:
        yield url
        return
    server = start_embedded(folder)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (SQLAlchemy form)."""
    folder = tmp_path_factory.mktemp("embedded-postgres")
    yield from _service_url("VOXREGEN_TEST_DATABASE_URL", embedded.start_postgres, folder)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("embedded-redis")
    yield from _service_url("VOXREGEN_TEST_REDIS_URL", embedded.start_redis, folder)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``host:port`` of moto's S3 server, run for the session."""
    with moto_s3_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def fresh_database_url(database_url) -> Iterator[str]:
    """A new, empty database for this test alone, dropped afterwards."""
    with new_database(database_url) as url:
        yield url


@pytest.fixture(scope="session")
def realistic_stems(tmp_path_factory) -> StemCorpus:
    """The realistic corpus (``tests/realistic_stems.py``), each stem built on first use and
    kept for the session."""
    return StemCorpus(tmp_path_factory.mktemp("realistic-stems"))
