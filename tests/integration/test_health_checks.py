"""Each dependency's HealthCheck against the real service, up and down: it satisfies the port,
returns when the dependency answers, and raises the dependency's port error naming why when it
does not (that reason goes to the log of ``GET /readyz``, see test_http_health.py)."""

import uuid

import pytest

from tests.integration.migrated_database import migrated_engine
from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY, unreachable_s3_store
from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.health_checks import (
    ObjectStoreHealthCheck,
    PostgresHealthCheck,
    RedisHealthCheck,
)
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_adapters.minio_object_store import MinioObjectStore
from voxregen_core.errors import (
    DatabaseUnavailableError,
    QueueUnavailableError,
    StorageUnavailableError,
)
from voxregen_core.ports import HealthCheck

UNREACHABLE_REDIS_URL = "unix:///nonexistent/voxregen-test/redis.sock"


def test_each_dependency_that_answers_passes(fresh_database_url, redis_url, tmp_path, s3_endpoint):
    engine = migrated_engine(fresh_database_url)
    s3_store = MinioObjectStore(
        endpoint=s3_endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket=f"voxregen-{uuid.uuid4().hex}",
        secure=False,
    )
    checks = [
        PostgresHealthCheck(engine),
        RedisHealthCheck(redis_url),
        ObjectStoreHealthCheck(
            LocalObjectStore(tmp_path, public_url="http://127.0.0.1:8000", signing_key=b"k" * 32)
        ),
        ObjectStoreHealthCheck(s3_store),
    ]
    try:
        for check in checks:
            assert isinstance(check, HealthCheck)
            assert check.check() is None
    finally:
        engine.dispose()
    assert [check.name for check in checks] == ["database", "redis", "storage", "storage"]


@pytest.mark.parametrize(
    ("make_check", "error", "match"),
    [
        (
            lambda: PostgresHealthCheck(
                create_database_engine("postgresql+psycopg://postgres@127.0.0.1:1/voxregen")
            ),
            DatabaseUnavailableError,
            "cannot use the database: .*127.0.0.1",
        ),
        (
            lambda: RedisHealthCheck(UNREACHABLE_REDIS_URL),
            QueueUnavailableError,
            r"the job queue's Redis is unreachable \(ConnectionError: .*redis.sock",
        ),
        (
            lambda: ObjectStoreHealthCheck(unreachable_s3_store()),
            StorageUnavailableError,
            "object store 127.0.0.1:1 cannot be reached",
        ),
    ],
    ids=["database", "redis", "storage"],
)
def test_a_dependency_that_cannot_be_reached_raises_its_port_error(make_check, error, match):
    with pytest.raises(error, match=match):
        make_check().check()
