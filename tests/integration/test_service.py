"""build_service: every port of the API and the worker from settings, nothing connected
until first use, overrides honoured, and a clear error for each missing setting."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.fakes import InMemoryJobQueue, InMemoryObjectStore, SteppingClock
from tests.integration.migrated_database import migrated_engine
from voxregen.composition.service_parts import build_service
from voxregen_adapters.clock import SystemClock
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_adapters.health_checks import (
    ObjectStoreHealthCheck,
    PostgresHealthCheck,
    RedisHealthCheck,
)
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_adapters.minio_object_store import MinioObjectStore
from voxregen_adapters.service import Service
from voxregen_adapters.settings import Settings
from voxregen_core import ports
from voxregen_core.errors import ConfigError, DatabaseUnavailableError
from voxregen_core.profiles import ProfileStatus, SingerProfile

SIGNING_KEY = b"service-tests-signing-key-0123456789abcdef"
PORTS = {
    "profiles": ports.SingerProfileRepository,
    "references": ports.SingerReferenceRepository,
    "exemplars": ports.SingerExemplarRepository,
    "jobs": ports.RenderJobRepository,
    "feature_cache": ports.FeatureCacheRepository,
    "idempotency_keys": ports.IdempotencyKeyRepository,
    "webhook_secrets": ports.WebhookSecretRepository,
    "webhook_sender": ports.WebhookSender,
    "store": ports.ObjectStore,
    "queue": ports.JobQueue,
    "clock": ports.Clock,
}


def _settings(tmp_path: Path, **overrides) -> Settings:
    fields = {
        "database_url": "postgresql+psycopg://nobody@127.0.0.1:1/nowhere",
        "redis_url": "unix:///nonexistent/voxregen-test/redis.sock",
        "storage_url": tmp_path.as_uri(),
        "public_url": "http://127.0.0.1:8000",
        "signing_key": SIGNING_KEY,
        "cache_dir": tmp_path / "cache",
        "data_dir": tmp_path / "data",
    }
    return Settings(**{**fields, **overrides})


@pytest.fixture
def live_service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    migrated_engine(fresh_database_url).dispose()
    service = build_service(
        _settings(tmp_path, database_url=fresh_database_url, redis_url=redis_url)
    )
    yield service
    service.close()


def test_every_port_is_built_and_satisfies_its_protocol(live_service):
    for name, port in PORTS.items():
        assert isinstance(getattr(live_service, name), port), name
    assert isinstance(live_service.store, LocalObjectStore)
    assert isinstance(live_service.queue, DramatiqJobQueue)
    assert isinstance(live_service.clock, SystemClock)
    assert all(isinstance(check, ports.HealthCheck) for check in live_service.health_checks)
    assert [type(check) for check in live_service.health_checks] == [
        PostgresHealthCheck,
        RedisHealthCheck,
        ObjectStoreHealthCheck,
    ]
    assert [check.name for check in live_service.health_checks] == ["database", "redis", "storage"]
    assert live_service.health_checks[2].store is live_service.store


def test_the_service_has_every_port_the_use_cases_run_over(live_service):
    members = {
        name for name, value in vars(ports.ServicePorts).items() if isinstance(value, property)
    }
    assert members == {
        "profiles",
        "references",
        "jobs",
        "store",
        "queue",
        "clock",
        "webhook_sender",
        "webhook_secrets",
    }
    for name in members:
        assert isinstance(getattr(live_service, name), PORTS[name]), name


def test_the_repositories_share_one_real_database(live_service):
    user_id = uuid.uuid4()
    profile = live_service.profiles.add(
        SingerProfile(id=uuid.uuid4(), user_id=user_id, name="Ada", status=ProfileStatus.READY)
    )
    assert live_service.references.list_for_profile(user_id=user_id, profile_id=profile.id) == []
    assert live_service.profiles.get(user_id=user_id, profile_id=profile.id) == profile


def test_nothing_connects_until_first_use(tmp_path):
    service = build_service(_settings(tmp_path))  # nothing listens on any of these
    try:
        with pytest.raises(DatabaseUnavailableError, match="cannot use the database"):
            service.jobs.get(user_id=uuid.uuid4(), job_id=uuid.uuid4())
    finally:
        service.close()


def test_an_s3_storage_url_gives_the_minio_store(tmp_path):
    url = "s3://key:secret-key@127.0.0.1:1/voxregen-bucket?secure=false"
    service = build_service(_settings(tmp_path, storage_url=url))
    try:
        assert isinstance(service.store, MinioObjectStore)
    finally:
        service.close()


def test_overrides_replace_single_parts(tmp_path):
    store, clock = InMemoryObjectStore(), SteppingClock()
    queue = InMemoryJobQueue()
    service = build_service(_settings(tmp_path), store=store, queue=queue, clock=clock)
    checked = build_service(_settings(tmp_path), health_checks=())
    try:
        assert (service.store, service.queue, service.clock) == (store, queue, clock)
        assert service.health_checks[2] == ObjectStoreHealthCheck(store)  # probes the override
        assert checked.health_checks == ()
    finally:
        service.close()
        checked.close()


@pytest.mark.parametrize("name", ["database_url", "redis_url", "storage_url"])
def test_a_missing_setting_is_a_config_error_naming_it(tmp_path, name):
    settings = attrs.evolve(_settings(tmp_path), **{name: None})
    with pytest.raises(ConfigError, match=f"VOXREGEN_{name.upper()} is not set"):
        build_service(settings)
