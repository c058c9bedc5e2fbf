"""Fixtures shared by the integration tests."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.integration.migrated_database import migrated_engine


@pytest.fixture
def pg_engine(fresh_database_url) -> Iterator[sa.Engine]:
    """An engine on a fresh database migrated to the newest revision."""
    engine = migrated_engine(fresh_database_url)
    yield engine
    engine.dispose()
