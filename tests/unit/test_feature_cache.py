"""Feature-cache policy: entries, who may reuse them, touching, eviction (and what a job in
flight keeps)."""

import uuid
from datetime import UTC, datetime, timedelta

import attrs
import hypothesis.strategies as st
import pytest
from hypothesis import given

from voxregen_core import spec
from voxregen_core.errors import InvalidKeyError, InvalidParamsError
from voxregen_core.feature_cache import (
    FeatureCacheEntry,
    JobInFlight,
    evictable,
    is_reusable,
    touched,
)
from voxregen_core.keys import KeyKind, parse_key

USERS = [uuid.UUID(int=n) for n in (1, 2, 3)]
HASHES = ["ab" * 32, "cd" * 32]
VERSIONS = ["v1", "v2"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)

times = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@st.composite
def entries(draw) -> FeatureCacheEntry:
    entry = FeatureCacheEntry.new(
        user_id=draw(st.sampled_from(USERS)),
        input_hash=draw(st.sampled_from(HASHES)),
        feature_version=draw(st.sampled_from(VERSIONS)),
        duration_s=draw(st.floats(0.4, 480.0)),
        now=draw(times),
    )
    return touched(entry, now=entry.created_at + timedelta(seconds=draw(st.integers(0, 10**6))))


def _entry(**changes) -> FeatureCacheEntry:
    arguments = {
        "user_id": USERS[0],
        "input_hash": HASHES[0],
        "feature_version": "v1",
        "duration_s": 12.5,
        "now": T0,
    }
    return FeatureCacheEntry.new(**{**arguments, **changes})


def test_a_new_entry_is_stored_under_its_feature_cache_key():
    entry = _entry()
    parsed = parse_key(entry.object_key)
    assert (parsed.kind, parsed.user_id, parsed.input_hash, parsed.feature_version) == (
        KeyKind.FEATURE_CACHE,
        USERS[0],
        HASHES[0],
        "v1",
    )
    assert entry.id.version == 4
    assert entry.sample_rate_hz == spec.SAMPLE_RATE_HZ == 48_000
    assert entry.created_at == entry.last_accessed_at == T0
    assert entry.duration_s == 12.5


def test_each_new_entry_gets_its_own_id():
    assert _entry().id != _entry().id


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"input_hash": "AB" * 32}, InvalidKeyError, "input_hash must be 64 lowercase hex"),
        ({"input_hash": "ab" * 31}, InvalidKeyError, "input_hash must be 64 lowercase hex"),
        ({"feature_version": "1"}, InvalidKeyError, "feature_version must look like 'v1'"),
        ({"duration_s": -1.0}, ValueError, "'duration_s' must be >= 0: -1.0"),
    ],
)
def test_malformed_entries_are_refused(changes, error, message):
    with pytest.raises(error, match=message):
        _entry(**changes)


@given(
    entries(),
    st.sampled_from(USERS),
    st.sampled_from(HASHES),
    st.sampled_from(VERSIONS),
)
def test_reusable_only_for_the_same_user_input_and_version(entry, user_id, input_hash, version):
    expected = (user_id, input_hash, version) == (
        entry.user_id,
        entry.input_hash,
        entry.feature_version,
    )
    assert (
        is_reusable(entry, user_id=user_id, input_hash=input_hash, feature_version=version)
        is expected
    )


def test_never_reusable_by_another_user_even_for_identical_bytes():
    entry = _entry()
    assert is_reusable(entry, user_id=USERS[0], input_hash=HASHES[0], feature_version="v1")
    assert not is_reusable(entry, user_id=USERS[1], input_hash=HASHES[0], feature_version="v1")
    assert not is_reusable(entry, user_id=USERS[0], input_hash=HASHES[0], feature_version="v2")


@given(entries(), times)
def test_a_hit_moves_last_accessed_at_only(entry, now):
    hit = touched(entry, now=now)
    assert hit.last_accessed_at == now
    assert attrs.evolve(hit, last_accessed_at=entry.last_accessed_at) == entry


@given(
    st.lists(entries(), max_size=12),
    times,
    st.integers(0, 10**7),
    st.lists(
        st.tuples(st.sampled_from(USERS), st.one_of(st.none(), st.integers(0, 11))), max_size=4
    ),
)
def test_evictable_are_the_idle_entries_no_job_in_flight_may_read_oldest_first(
    cache, now, max_idle_s, jobs
):
    in_flight = [
        JobInFlight(user_id=user_id, entry_id=None if i is None else _id_at(cache, i))
        for user_id, i in jobs
    ]
    chosen = evictable(cache, now=now, max_idle_s=max_idle_s, in_flight=in_flight)

    idle_s = {entry.id: (now - entry.last_accessed_at).total_seconds() for entry in cache}
    referred = {job.entry_id for job in in_flight}
    looking_up = {job.user_id for job in in_flight if job.entry_id is None}
    assert {entry.id for entry in chosen} == {
        entry.id
        for entry in cache
        if idle_s[entry.id] > max_idle_s
        and entry.id not in referred
        and entry.user_id not in looking_up
    }
    accessed = [entry.last_accessed_at for entry in chosen]
    assert accessed == sorted(accessed)


def _id_at(cache: list[FeatureCacheEntry], position: int) -> uuid.UUID:
    """The id of the entry at ``position``, or an id no entry has."""
    return cache[position].id if position < len(cache) else uuid.uuid4()


def test_an_entry_idle_exactly_the_limit_is_kept():
    entry = _entry()
    day_s = 86_400.0
    assert evictable([entry], now=T0 + timedelta(days=1), max_idle_s=day_s) == []
    later = T0 + timedelta(days=1, seconds=1)
    assert evictable([entry], now=later, max_idle_s=day_s) == [entry]


def test_a_job_in_flight_keeps_its_entry_or_until_it_has_one_every_entry_of_its_user():
    entry, others = _entry(), _entry(user_id=USERS[1])
    later = T0 + timedelta(days=30)
    running = JobInFlight(user_id=USERS[0], entry_id=entry.id)
    assert running.may_read(entry) and not running.may_read(others)
    assert evictable([entry, others], now=later, max_idle_s=1.0, in_flight=[running]) == [others]
    looking_up = JobInFlight(user_id=USERS[0], entry_id=None)
    assert looking_up.may_read(entry) and not looking_up.may_read(others)
    assert evictable([entry, others], now=later, max_idle_s=1.0, in_flight=[looking_up]) == [others]
    elsewhere = JobInFlight(user_id=USERS[0], entry_id=uuid.uuid4())  # another input's entry
    assert evictable([entry], now=later, max_idle_s=1.0, in_flight=[elsewhere]) == [entry]


def test_evictable_refuses_a_negative_idle_time():
    with pytest.raises(InvalidParamsError, match="max_idle_s must be >= 0"):
        evictable([], now=datetime(2026, 1, 1, tzinfo=UTC), max_idle_s=-1.0)
