"""FeatureCacheRepository contract, run against every implementation of the port."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import InMemoryFeatureCacheRepository
from tests.integration.migrated_database import migrated_engine
from voxregen_adapters.db.feature_cache_repository import PostgresFeatureCacheRepository
from voxregen_adapters.local_feature_cache import LocalFeatureCacheRepository
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.ports import FeatureCacheRepository

USER_A = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
USER_B = uuid.UUID("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")
HASH = "ab" * 32
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["in_memory", "local", "postgres"])
def repository(request, tmp_path) -> FeatureCacheRepository:
    return {
        "in_memory": InMemoryFeatureCacheRepository,
        "local": lambda: LocalFeatureCacheRepository(tmp_path),
        "postgres": lambda: _postgres(request),
    }[request.param]()


def _postgres(request) -> PostgresFeatureCacheRepository:
    engine = migrated_engine(request.getfixturevalue("fresh_database_url"))
    request.addfinalizer(engine.dispose)
    return PostgresFeatureCacheRepository(engine)


def _entry(user_id: uuid.UUID = USER_A, input_hash: str = HASH) -> FeatureCacheEntry:
    return FeatureCacheEntry.new(
        user_id=user_id, input_hash=input_hash, feature_version="v1", duration_s=12.5, now=T0
    )


def test_satisfies_the_port(repository):
    assert isinstance(repository, FeatureCacheRepository)


def test_add_then_find_returns_the_entry(repository):
    entry = repository.add(_entry())
    assert repository.find(user_id=USER_A, input_hash=HASH, feature_version="v1") == entry


def test_find_is_scoped_by_user_and_version(repository):
    repository.add(_entry(USER_A))
    assert repository.find(user_id=USER_B, input_hash=HASH, feature_version="v1") is None
    assert repository.find(user_id=USER_A, input_hash=HASH, feature_version="v2") is None
    assert repository.find(user_id=USER_A, input_hash="cd" * 32, feature_version="v1") is None


def test_a_racing_add_for_the_same_input_gets_the_stored_entry(repository):
    first = repository.add(_entry())
    rival = _entry()
    assert rival.id != first.id
    assert repository.add(rival) == first
    assert repository.find(user_id=USER_A, input_hash=HASH, feature_version="v1") == first


def test_touch_updates_last_accessed_at_only(repository):
    entry = repository.add(_entry())
    later = T0 + timedelta(hours=3)
    repository.touch(entry, accessed_at=later)
    found = repository.find(user_id=USER_A, input_hash=HASH, feature_version="v1")
    assert found.last_accessed_at == later
    assert (found.id, found.created_at, found.object_key) == (
        entry.id,
        entry.created_at,
        entry.object_key,
    )


def test_touch_cannot_reach_another_users_entry(repository):
    entry = repository.add(_entry(USER_A))
    forged = FeatureCacheEntry(
        id=entry.id,
        user_id=USER_B,
        input_hash=entry.input_hash,
        feature_version=entry.feature_version,
        sample_rate_hz=entry.sample_rate_hz,
        object_key=entry.object_key,
        duration_s=entry.duration_s,
        created_at=entry.created_at,
        last_accessed_at=entry.last_accessed_at,
    )
    repository.touch(forged, accessed_at=T0 + timedelta(days=1))
    found = repository.find(user_id=USER_A, input_hash=HASH, feature_version="v1")
    assert found.last_accessed_at == T0
