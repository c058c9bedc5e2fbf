"""Fixtures shared by the integration tests."""

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from dramatiq.brokers.redis import RedisBroker

from tests.integration.migrated_database import migrated_engine
from tests.redis_namespace import delete_namespace
from voxregen_adapters.broker import make_broker


@pytest.fixture
def pg_engine(fresh_database_url) -> Iterator[sa.Engine]:
    """An engine on a fresh database migrated to the newest revision."""
    engine = migrated_engine(fresh_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def broker(redis_url) -> Iterator[RedisBroker]:
    """A broker on the session's Redis under a namespace of its own, emptied afterwards, so
    tests run in any order and leave no shared keys."""
    broker = make_broker(redis_url, namespace=f"voxregen-test-{uuid.uuid4().hex}")
    yield broker
    delete_namespace(broker.client, broker.namespace)
    broker.client.connection_pool.disconnect()  # RedisBroker.close() is a no-op
