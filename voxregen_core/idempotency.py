"""Idempotent retries: a client that lost the answer to a POST sends it again with the same
``Idempotency-Key`` and gets the first answer again instead of a second job.

A key belongs to one user. The first request with it claims it (``in flight``) with the
request's fingerprint (method, path and body bytes); once answered, the answer (status and
body) is stored with it. Then, for that user and key:

- the same request again is answered the stored answer, and runs nothing;
- another request (another route or another body) is refused: :class:`IdempotencyKeyReusedError`;
- while the first is still in flight: :class:`IdempotencyKeyInUseError`. A claim whose request
  never answered (its process died) is taken over after ``IN_FLIGHT_TIMEOUT_S``.

Answers under 500 are stored (a refusal is an answer: the same request would be refused
again); a 5xx (a database, store or queue that could not be reached) or a crash releases the
claim, so that the retry runs. Keys are kept ``RETENTION_S`` (24 h) and then swept.
"""

import hashlib
import re

import attrs

from voxregen_core.errors import InvalidParamsError, VoxregenError

MAX_KEY_CHARS = 255
IN_FLIGHT_TIMEOUT_S = 120.0
"""Longer than any request takes (a request's body is at most 64 KiB, its work a few queries
and store calls): a claim this old was left by a process that died."""
RETENTION_S = 24 * 3600.0

_KEY = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")


class InvalidIdempotencyKeyError(InvalidParamsError):
    """Raised when an ``Idempotency-Key`` is empty, longer than 255 characters, or holds
    characters other than printable ASCII."""

    code = "invalid_idempotency_key"


class IdempotencyKeyReusedError(InvalidParamsError):
    """Raised when a key already used for one request comes with another."""

    code = "idempotency_key_reused"


class IdempotencyKeyInUseError(VoxregenError):
    """Raised when a request with the key is still being answered."""

    code = "idempotency_key_in_use"


def checked_key(key: str) -> str:
    """``key`` if it is 1 to 255 printable ASCII characters (spaces inside only); raises
    :class:`InvalidIdempotencyKeyError`."""
    if not 1 <= len(key) <= MAX_KEY_CHARS or not _KEY.fullmatch(key):
        raise InvalidIdempotencyKeyError(
            f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable ASCII characters, "
            f"got {len(key)} character(s)"
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same one: method, path (with its query) and body bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


@attrs.frozen
class StoredAnswer:
    """The first answer to a key's request."""

    status_code: int
    body: bytes


@attrs.frozen
class Claimed:
    """The key was free (or its claim abandoned): this request runs, then stores its answer."""


@attrs.frozen
class Replay:
    """The same request was answered before: answer ``answer`` again."""

    answer: StoredAnswer


IdempotencyClaim = Claimed | Replay
