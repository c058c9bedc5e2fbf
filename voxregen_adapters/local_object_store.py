"""``LocalObjectStore``: the object store as files under one root folder.

Keys map to relative paths one to one (``users/…/output.wav`` → ``ROOT/users/…/output.wav``).
Only keys of the brief's templates are accepted (:func:`voxregen_core.keys.parse_key`), so no
key can name a path outside the root; writes are atomic, and so is a move (one rename).

Presigned URLs point at the HTTP app (``{public_url}/storage/{key}?expires=…&signature=…``),
which serves them after :func:`voxregen_adapters.url_signing.verify`; see that module.
"""

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from voxregen_adapters import url_signing
from voxregen_adapters.atomic_file import write_atomically, write_chunks_atomically
from voxregen_core.errors import InvalidKeyError, ObjectNotFoundError
from voxregen_core.keys import KeyKind, parse_key


class LocalObjectStore:
    def __init__(
        self, root: Path, *, public_url: str, signing_key: bytes, sync_chunks: bool = True
    ) -> None:
        """``sync_chunks=False`` writes chunks without waiting for the disk (each other object
        is fsynced): for a reader that checks every stored chunk before it reuses it and
        makes it again otherwise, as ``voxregen render`` does (its CRC, chunk_codec). A worker
        records a chunk in its ledger once stored and trusts the record, so its store keeps
        the default."""
        self._root = Path(root).resolve()
        self._public_url = public_url
        self._signing_key = url_signing.check_signing_key(signing_key)
        self._sync_chunks = sync_chunks

    def _path(self, key: str) -> Path:
        parse_key(key)  # raises InvalidKeyError for anything but a template's key
        return self._root / key

    def put(self, key: str, data: bytes) -> None:
        durable = self._sync_chunks or parse_key(key).kind is not KeyKind.CHUNK
        write_atomically(self._path(key), data, mode=0o600, durable=durable)  # the owner's only

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        write_chunks_atomically(self._path(key), chunks, mode=0o600)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object under {key}") from None

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        try:
            file = self._path(key).open("rb")
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object under {key}") from None
        with file:
            yield file

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object under {key}") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def move(self, source_key: str, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self._path(source_key), target)  # one rename: atomic, in one file system
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object under {source_key}") from None

    def list(self, prefix: str) -> list[str]:
        if prefix.startswith("/") or ".." in prefix.split("/") or "\\" in prefix:
            raise InvalidKeyError(f"not a key prefix: {prefix[:200]!r}")
        folder = self._root / prefix.rpartition("/")[0]
        if not folder.is_dir():
            return []
        keys = (
            path.relative_to(self._root).as_posix()
            for path in folder.rglob("*")
            if path.is_file() and not path.name.startswith(".")
        )
        return sorted(key for key in keys if key.startswith(prefix))

    def presigned_put_url(self, key: str, *, expires_s: int) -> str:
        return self._presigned_url("PUT", key, expires_s)

    def presigned_get_url(self, key: str, *, expires_s: int) -> str:
        return self._presigned_url("GET", key, expires_s)

    def _presigned_url(self, method: str, key: str, expires_s: int) -> str:
        parse_key(key)
        expires_at_s = int(time.time()) + url_signing.check_expires_s(expires_s)
        return url_signing.signed_url(
            self._public_url,
            method=method,
            key=key,
            expires_at_s=expires_at_s,
            signing_key=self._signing_key,
        )
