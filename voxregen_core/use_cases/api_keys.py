"""Making, listing and revoking API keys (``voxregen keys``), and finding the user a key
belongs to (every /v1 request in ``api_keys`` mode): :mod:`voxregen_core.api_keys` says what a
key is and how it is kept."""

import uuid

from voxregen_core import api_keys
from voxregen_core.api_keys import ApiKey, NewApiKey
from voxregen_core.errors import InvalidParamsError, NotFoundError
from voxregen_core.ports import ApiKeyRepository, Clock


def create_api_key(keys: ApiKeyRepository, *, user_id: uuid.UUID, name: str) -> NewApiKey:
    """A new key for ``user_id``, stored as its digest; the key itself is in the answer only."""
    if len(name) > api_keys.MAX_NAME_CHARS or not name.isprintable():
        raise InvalidParamsError(
            f"a key's name is at most {api_keys.MAX_NAME_CHARS} printable characters"
        )
    made = api_keys.new_api_key(user_id=user_id, name=name)
    return NewApiKey(row=keys.add(made.row), key=made.key)


def list_api_keys(keys: ApiKeyRepository, *, user_id: uuid.UUID) -> list[ApiKey]:
    return keys.list_for_user(user_id=user_id)


def revoke_api_key(keys: ApiKeyRepository, clock: Clock, *, key_id: uuid.UUID) -> ApiKey:
    """Revoke the key: from now on it authenticates nothing. Raises :class:`NotFoundError`."""
    row = keys.revoke(key_id=key_id, now=clock.now())
    if row is None:
        raise NotFoundError(f"no API key has the id {key_id}")
    return row


def key_owner(keys: ApiKeyRepository, clock: Clock, key: str) -> uuid.UUID | None:
    """The user ``key`` authenticates, or None for a malformed, unknown or revoked key."""
    if not api_keys.is_well_formed(key):
        return None
    row = keys.find_by_digest(api_keys.key_digest(key))
    if row is None or row.revoked_at is not None or not api_keys.matches(row, key):
        return None
    keys.touch(key_id=row.id, now=clock.now(), resolution_s=api_keys.LAST_USED_RESOLUTION_S)
    return row.user_id
