"""API keys (voxregen_core/api_keys.py, use_cases/api_keys.py) over an in-memory repository:
their shape, that only a digest is kept, and who a key authenticates."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from voxregen_core import api_keys
from voxregen_core.api_keys import ApiKey
from voxregen_core.errors import InvalidParamsError, NotFoundError
from voxregen_core.use_cases.api_keys import (
    create_api_key,
    key_owner,
    list_api_keys,
    revoke_api_key,
)

USER = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class MemoryKeys:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, ApiKey] = {}

    def add(self, row: ApiKey) -> ApiKey:
        self.rows[row.id] = attrs.evolve(row, created_at=T0)
        return self.rows[row.id]

    def list_for_user(self, *, user_id):
        return [row for row in self.rows.values() if row.user_id == user_id]

    def find_by_digest(self, digest):
        return next((row for row in self.rows.values() if row.digest == digest), None)

    def revoke(self, *, key_id, now):
        if key_id not in self.rows:
            return None
        row = self.rows[key_id]
        self.rows[key_id] = attrs.evolve(row, revoked_at=row.revoked_at or now)
        return self.rows[key_id]

    def touch(self, *, key_id, now, resolution_s):
        row = self.rows[key_id]
        if row.last_used_at is None or now - row.last_used_at >= timedelta(seconds=resolution_s):
            self.rows[key_id] = attrs.evolve(row, last_used_at=now)


def test_a_new_key_has_its_shape_and_only_its_digest_and_prefix_are_kept():
    keys = MemoryKeys()
    made = create_api_key(keys, user_id=USER, name="laptop")
    assert made.key.startswith("vxr_") and len(made.key) == 4 + 43
    assert api_keys.is_well_formed(made.key)
    assert made.row.digest == hashlib.sha256(made.key.encode()).hexdigest()
    assert made.row.prefix == made.key[:8]
    assert made.key not in repr(made) and made.key not in repr(keys.rows)
    assert create_api_key(keys, user_id=USER, name="").key != made.key


@pytest.mark.parametrize(
    "key", ["", "vxr_", "vxr_" + "A" * 42, "vxr_" + "A" * 44, "VXR_" + "A" * 43, "vxr_" + "+" * 43]
)
def test_malformed_keys_authenticate_nobody(key):
    assert not api_keys.is_well_formed(key)
    assert key_owner(MemoryKeys(), Clock(), key) is None


def test_a_key_authenticates_its_user_until_revoked_and_records_its_use_a_minute_apart():
    keys, clock = MemoryKeys(), Clock()
    made = create_api_key(keys, user_id=USER, name="ci")
    assert key_owner(keys, clock, made.key) == USER
    assert keys.rows[made.row.id].last_used_at == T0
    clock.at = T0 + timedelta(seconds=30)
    assert key_owner(keys, clock, made.key) == USER
    assert keys.rows[made.row.id].last_used_at == T0
    clock.at = T0 + timedelta(seconds=61)
    key_owner(keys, clock, made.key)
    assert keys.rows[made.row.id].last_used_at == clock.at

    assert key_owner(keys, clock, "vxr_" + "B" * 43) is None  # unknown
    revoked = revoke_api_key(keys, clock, key_id=made.row.id)
    assert revoked.revoked_at == clock.at
    assert key_owner(keys, clock, made.key) is None
    clock.at += timedelta(hours=1)
    assert revoke_api_key(keys, clock, key_id=made.row.id).revoked_at == revoked.revoked_at
    assert list_api_keys(keys, user_id=USER) == [keys.rows[made.row.id]]


def test_revoking_a_missing_key_and_an_unprintable_name_are_refused():
    with pytest.raises(NotFoundError):
        revoke_api_key(MemoryKeys(), Clock(), key_id=uuid.uuid4())
    with pytest.raises(InvalidParamsError):
        create_api_key(MemoryKeys(), user_id=USER, name="a\nb")
    with pytest.raises(InvalidParamsError):
        create_api_key(MemoryKeys(), user_id=USER, name="x" * 201)
