"""API keys: who is calling, outside development mode.

A key is ``vxr_`` and 43 URL-safe characters (32 random bytes, base64url without padding). It
is shown once, when it is made; the service keeps only its SHA-256 digest. A key carries 256
random bits, so a plain digest is as strong as a slow password hash here (nobody can guess a
preimage), and lets the service find the key's row by an index on the digest. The digest the
row holds is compared with the presented one in constant time all the same.

A row also keeps the key's first characters (``vxr_`` and 4 more), the ``prefix`` that
``voxregen keys list`` shows so that a user can tell keys apart, a name, when it was last used
(written at most once a minute, :data:`LAST_USED_RESOLUTION_S`) and when it was revoked. A
revoked key authenticates nothing; its row stays, so the list shows it.
"""

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime

import attrs

SCHEME_PREFIX = "vxr_"
KEY_BYTES = 32
SHOWN_PREFIX_CHARS = len(SCHEME_PREFIX) + 4
MAX_NAME_CHARS = 200
LAST_USED_RESOLUTION_S = 60.0
"""``last_used_at`` is written only when it is older than this: a busy client does not turn
every request into a write."""

_KEY = re.compile(rf"{SCHEME_PREFIX}[A-Za-z0-9_-]{{43}}")


@attrs.frozen
class ApiKey:
    """A row of ``api_keys`` (never the key itself)."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    digest: str = attrs.field(repr=False)
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@attrs.frozen
class NewApiKey:
    """A key just made: the row to store and the key to show its owner, once."""

    row: ApiKey
    key: str = attrs.field(repr=False)


def new_api_key(*, user_id: uuid.UUID, name: str) -> NewApiKey:
    """A fresh random key for ``user_id``; its row holds its digest and shown prefix."""
    key = SCHEME_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    row = ApiKey(
        id=uuid.uuid4(),
        user_id=user_id,
        name=name,
        prefix=key[:SHOWN_PREFIX_CHARS],
        digest=key_digest(key),
    )
    return NewApiKey(row=row, key=key)


def is_well_formed(key: str) -> bool:
    """Whether ``key`` has the shape of a key this service makes."""
    return _KEY.fullmatch(key) is not None


def key_digest(key: str) -> str:
    """The hex SHA-256 of ``key``: what the service stores and looks keys up by."""
    return hashlib.sha256(key.encode()).hexdigest()


def matches(row: ApiKey, key: str) -> bool:
    """Whether ``key`` is the one ``row`` was made for, compared in constant time."""
    return hmac.compare_digest(row.digest, key_digest(key))
