"""Signed storage URLs for :class:`~voxregen_adapters.local_object_store.LocalObjectStore`.

A URL grants one HTTP method on one key until an expiry, and looks like::

    {public_url}/storage/{key}?expires=<unix seconds>&signature=<64 hex digits>

The signature is HMAC-SHA256, under the server's signing key, of the message
``voxregen-storage-url/v1 \\n METHOD \\n key \\n expires`` (no spaces). The method is not in the
URL: the server verifies against the method of the request it received, so a GET URL cannot be
used to PUT. The method is one of GET/PUT and the expiry is digits, so the message splits one way
only, whatever the key holds. A URL is valid while ``now_s < expires_at_s``.

Pure functions: the caller passes the time, so expiry is tested without a clock.
"""

import hashlib
import hmac
from urllib.parse import quote, urlencode

from voxregen_core.errors import InvalidParamsError

METHODS = ("GET", "PUT")
MIN_SIGNING_KEY_BYTES = 32
MAX_EXPIRES_S = 7 * 24 * 3600  # S3's own limit for a presigned URL, kept for every store
_CONTEXT = b"voxregen-storage-url/v1"


def check_signing_key(signing_key: bytes) -> bytes:
    """Return ``signing_key``; raise InvalidParamsError unless it is at least 32 bytes."""
    if not isinstance(signing_key, bytes) or len(signing_key) < MIN_SIGNING_KEY_BYTES:
        length = len(signing_key) if isinstance(signing_key, bytes) else type(signing_key).__name__
        raise InvalidParamsError(
            f"signing key must be at least {MIN_SIGNING_KEY_BYTES} bytes, got {length}"
        )
    return signing_key


def check_expires_s(expires_s: int) -> int:
    """Return ``expires_s``; raise InvalidParamsError unless it is a whole number of seconds
    in [1, 604800] (seven days)."""
    if isinstance(expires_s, bool) or not isinstance(expires_s, int):
        raise InvalidParamsError(f"expires_s must be a whole number of seconds, got {expires_s!r}")
    if not 1 <= expires_s <= MAX_EXPIRES_S:
        raise InvalidParamsError(f"expires_s must be in [1, {MAX_EXPIRES_S}], got {expires_s}")
    return expires_s


def sign(*, method: str, key: str, expires_at_s: int, signing_key: bytes) -> str:
    """The hex HMAC-SHA256 that lets ``method`` act on ``key`` until ``expires_at_s``
    (unix seconds)."""
    if method not in METHODS:
        raise InvalidParamsError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(expires_at_s, bool) or not isinstance(expires_at_s, int):
        raise InvalidParamsError(f"expires_at_s must be whole unix seconds, got {expires_at_s!r}")
    message = b"\n".join(
        (
            _CONTEXT,
            method.encode("ascii"),
            key.encode("utf-8", "surrogatepass"),
            str(expires_at_s).encode(),
        )
    )
    return hmac.new(check_signing_key(signing_key), message, hashlib.sha256).hexdigest()


def verify(
    *,
    method: str,
    key: str,
    expires_at_s: int,
    signature: str,
    signing_key: bytes,
    now_s: float,
) -> bool:
    """Whether ``signature`` grants ``method`` on ``key`` at ``now_s`` (unix seconds), compared
    in constant time. Any other method, key, expiry or signature, or a past expiry, is refused."""
    if method not in METHODS or now_s >= expires_at_s:
        return False
    expected = sign(method=method, key=key, expires_at_s=expires_at_s, signing_key=signing_key)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


def signed_url(
    public_url: str, *, method: str, key: str, expires_at_s: int, signing_key: bytes
) -> str:
    """The URL, under ``public_url``, that the HTTP app serves for this grant."""
    signature = sign(method=method, key=key, expires_at_s=expires_at_s, signing_key=signing_key)
    query = urlencode({"expires": expires_at_s, "signature": signature})
    return f"{public_url.rstrip('/')}/storage/{quote(key, safe='/')}?{query}"
