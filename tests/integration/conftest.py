"""Fixtures shared by the integration tests."""

import uuid
from collections.abc import Iterator

import attrs
import pytest
import sqlalchemy as sa
from dramatiq.brokers.redis import RedisBroker

from tests.fakes import InMemoryJobQueue
from tests.integration.migrated_database import migrated_engine
from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY
from tests.integration.worker_world import make_service
from voxregen_adapters.broker import make_broker
from voxregen_adapters.service import Service


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
    broker.flush_all()
    broker.client.connection_pool.disconnect()  # RedisBroker.close() is a no-op


@pytest.fixture(params=["file", "s3"])
def any_store_service(request, fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    """The service over the local store, or over moto's S3, with an in-memory queue (the
    worker's tests run its actors in the test's own thread)."""
    storage_url = None
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"sweep-{uuid.uuid4().hex[:12]}"
        storage_url = f"s3://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/{bucket}?secure=false"
    service = make_service(fresh_database_url, redis_url, tmp_path, storage_url=storage_url)
    yield attrs.evolve(service, queue=InMemoryJobQueue())
    service.close()
