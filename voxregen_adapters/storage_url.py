"""``VOXREGEN_STORAGE_URL``: the one setting that chooses and configures the object store.

- ``file:///absolute/dir`` → :class:`LocalObjectStore` under that folder, whose presigned URLs
  point at ``public_url`` and are signed with ``signing_key``.
- ``s3://ACCESS_KEY:SECRET_KEY@host:port/bucket?secure=false&region=us-east-1`` →
  :class:`MinioObjectStore`. ``secure`` (``true``/``false``, default ``true``: HTTPS) and
  ``region`` (default ``us-east-1``) are optional; percent-encode ``/``, ``@`` or ``:`` in the
  keys.

A malformed URL raises :class:`ConfigError` naming the setting and the reason (never the URL,
which may hold the secret key). Nothing connects here.
"""

from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_adapters.minio_object_store import MinioObjectStore
from voxregen_core.errors import ConfigError, InvalidParamsError
from voxregen_core.ports import ObjectStore

SETTING = "VOXREGEN_STORAGE_URL"
_BOOLEANS = {"true": True, "false": False}


def object_store_from_url(url: str, *, public_url: str, signing_key: bytes) -> ObjectStore:
    """The object store that ``url`` describes (see the module docstring)."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise _malformed(str(error)) from None
    if parts.scheme == "file":
        return _local_store(parts, public_url=public_url, signing_key=signing_key)
    if parts.scheme == "s3":
        return _s3_store(parts)
    raise _malformed("the scheme must be file:// or s3://")


def _local_store(parts: SplitResult, *, public_url: str, signing_key: bytes) -> LocalObjectStore:
    if parts.netloc or parts.query or parts.fragment or not parts.path.startswith("/"):
        raise _malformed("expected file:///absolute/dir (three slashes, no host or query)")
    return LocalObjectStore(
        Path(unquote(parts.path)), public_url=public_url, signing_key=signing_key
    )


def _s3_store(parts: SplitResult) -> MinioObjectStore:
    shape = "expected s3://ACCESS_KEY:SECRET_KEY@host:port/bucket?secure=false"
    try:
        port = parts.port
    except ValueError as error:
        raise _malformed(f"bad port ({error}); {shape}") from None
    if not parts.username or not parts.password or not parts.hostname:
        raise _malformed(f"access key, secret key and host are required; {shape}")
    bucket = parts.path.strip("/")
    if not bucket or "/" in bucket or parts.fragment:
        raise _malformed(f"the path must be one bucket name; {shape}")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - {"secure", "region"})
    if unknown:
        raise _malformed(f"unknown option(s) {unknown}; allowed: secure, region")
    secure_text = options.get("secure", "true").lower()
    if secure_text not in _BOOLEANS:
        raise _malformed(f"secure must be true or false, got {options['secure']!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        return MinioObjectStore(
            endpoint=host if port is None else f"{host}:{port}",
            access_key=unquote(parts.username),
            secret_key=unquote(parts.password),
            bucket=bucket,
            secure=_BOOLEANS[secure_text],
            region=options.get("region") or "us-east-1",
        )
    except InvalidParamsError as error:
        raise _malformed(str(error)) from None


def _malformed(reason: str) -> ConfigError:
    # The URL itself is not repeated: it may hold the secret key.
    return ConfigError(f"{SETTING} is malformed: {reason}")
