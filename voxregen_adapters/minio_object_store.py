"""``MinioObjectStore``: the object store on MinIO or any S3-compatible server, via the
``minio`` SDK.

- Only keys of the brief's templates are accepted (:func:`voxregen_core.keys.parse_key`).
- Puts are single S3 PUTs, which S3 makes atomic: readers see the old object or the new one.
  A move is a server-side copy (atomic likewise) and then a delete of the source.
- Every object put through the store is tagged ``voxregen-class=<class>`` (chunk, input,
  output, feature-cache, reference) so lifecycle rules can filter on it; see docs/storage.md.
- Nothing connects at construction. The bucket is created, if missing, on the first operation
  (:meth:`ensure_bucket`, which a composition root may call at start-up to fail fast).
- :meth:`open` spools the object into an anonymous temporary file on disk, block by block, so
  that a 737 MB stem is read as a file without being held in memory.
- SDK failures become port errors: a missing object is :class:`ObjectNotFoundError`; a server
  that cannot be reached (or answers with a server error, or refuses our credentials) is
  :class:`StorageUnavailableError`. Timeouts and retries are short, so an outage is reported in
  seconds, not the SDK's default minutes.
"""

import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import BinaryIO, TypeVar

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource, Tags
from minio.error import MinioException, S3Error
from minio.helpers import check_bucket_name

from voxregen_adapters.url_signing import check_expires_s
from voxregen_core.errors import InvalidParamsError, ObjectNotFoundError, StorageUnavailableError
from voxregen_core.keys import KeyKind, parse_key

CLASS_TAG = "voxregen-class"
KEY_CLASSES = {
    KeyKind.REFERENCE: "reference",
    KeyKind.JOB_INPUT: "input",
    KeyKind.CHUNK: "chunk",
    KeyKind.JOB_OUTPUT: "output",
    KeyKind.FEATURE_CACHE: "feature-cache",
    KeyKind.JOB_UPLOAD: "upload",
    KeyKind.REFERENCE_UPLOAD: "upload",
}
_MISSING = {"NoSuchKey", "NoSuchObject"}
_STREAM_PART_BYTES = 16 << 20
"""Part size of :meth:`MinioObjectStore.put_stream`: the SDK holds one part in memory (S3's
smallest is 5 MiB; 10,000 parts of 16 MiB hold 160 GB)."""
_SPOOL_BLOCK_BYTES = 1 << 20
T = TypeVar("T")


def _class_tags(key: str) -> Tags:
    """The ``voxregen-class`` tag of ``key``'s kind."""
    tags = Tags.new_object_tags()
    tags[CLASS_TAG] = KEY_CLASSES[parse_key(key).kind]
    return tags


class MinioObjectStore:
    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = True,
        region: str = "us-east-1",
        timeout_s: float = 10.0,
        retries: int = 2,
    ) -> None:
        """``endpoint`` is ``host:port``; the region is fixed so that presigning never has to
        ask the server where the bucket lives."""
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
            retries=urllib3.Retry(
                total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        )
        if not endpoint:
            raise InvalidParamsError("object store endpoint must be host:port, got ''")
        try:
            check_bucket_name(bucket, strict=True)
            self._client = Minio(
                endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region,
                http_client=http,
            )
        except ValueError as error:
            raise InvalidParamsError(f"object store {endpoint}/{bucket}: {error}") from None
        self._endpoint = endpoint
        self._bucket = bucket
        self._bucket_ready = False

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (once per store; safe to race)."""
        if self._bucket_ready:
            return
        with self._translated(f"bucket {self._bucket}"):
            if not self._client.bucket_exists(self._bucket):
                try:
                    self._client.make_bucket(self._bucket)
                except S3Error as error:
                    if error.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise
        self._bucket_ready = True

    def put(self, key: str, data: bytes) -> None:
        tags = _class_tags(key)
        self._call(
            key,
            lambda: self._client.put_object(
                self._bucket, key, _ChunksReader((data,)), len(data), tags=tags
            ),
        )

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        """A multipart upload of ``_STREAM_PART_BYTES`` parts (one PUT if it fits in one), which
        the SDK aborts if reading ``chunks`` raises: S3 then keeps the object it had."""
        tags = _class_tags(key)
        reader = _ChunksReader(chunks)
        self._call(
            key,
            lambda: self._client.put_object(
                self._bucket, key, reader, -1, part_size=_STREAM_PART_BYTES, tags=tags
            ),
        )

    def move(self, source_key: str, key: str) -> None:
        """A server-side copy (S3 copies up to 5 GiB in one request; the largest upload is
        738 MB), tagged with ``key``'s class, then the source deleted."""
        parse_key(source_key)
        tags = _class_tags(key)
        self.ensure_bucket()
        with self._translated(source_key):  # the object that can be missing is the source
            self._client.copy_object(
                self._bucket,
                key,
                CopySource(self._bucket, source_key),
                tags=tags,
                tagging_directive=REPLACE,
            )
        self.delete(source_key)

    def get(self, key: str) -> bytes:
        def read() -> bytes:
            response = self._client.get_object(self._bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._call(key, read)

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        with tempfile.TemporaryFile() as file:  # in TMPDIR, unlinked at once: gone when closed
            self._call(key, lambda: self._spool(key, file))
            file.seek(0)
            yield file

    def _spool(self, key: str, file: BinaryIO) -> None:
        """Write the object's bytes to ``file``, one block at a time; a local disk that cannot
        take them (full, read-only) is StorageUnavailableError too."""
        response = self._client.get_object(self._bucket, key)
        try:
            for block in response.stream(_SPOOL_BLOCK_BYTES):
                try:
                    file.write(block)
                except OSError as error:
                    raise StorageUnavailableError(
                        f"cannot spool {key} to a temporary file: {error.strerror or error}"
                    ) from error
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        try:
            self._call(key, lambda: self._client.stat_object(self._bucket, key))
        except ObjectNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        stat = self._call(key, lambda: self._client.stat_object(self._bucket, key))
        return stat.size or 0

    def delete(self, key: str) -> None:
        self._call(key, lambda: self._client.remove_object(self._bucket, key))

    def list(self, prefix: str) -> list[str]:
        self.ensure_bucket()
        with self._translated(prefix):
            objects = self._client.list_objects(self._bucket, prefix=prefix, recursive=True)
            return sorted(item.object_name for item in objects if item.object_name is not None)

    def presigned_put_url(self, key: str, *, expires_s: int) -> str:
        expires = timedelta(seconds=check_expires_s(expires_s))
        return self._call(
            key, lambda: self._client.presigned_put_object(self._bucket, key, expires=expires)
        )

    def presigned_get_url(self, key: str, *, expires_s: int) -> str:
        expires = timedelta(seconds=check_expires_s(expires_s))
        return self._call(
            key, lambda: self._client.presigned_get_object(self._bucket, key, expires=expires)
        )

    def _call(self, key: str, operation: Callable[[], T]) -> T:
        """Run one SDK call on a template key, with the bucket in place and errors translated."""
        parse_key(key)
        self.ensure_bucket()
        with self._translated(key):
            return operation()

    @contextmanager
    def _translated(self, name: str) -> Iterator[None]:
        """SDK failures about ``name`` (a key, prefix or the bucket) as port errors."""
        try:
            yield
        except S3Error as error:
            if error.code in _MISSING:
                raise ObjectNotFoundError(f"no object under {name}") from None
            raise StorageUnavailableError(
                f"object store {self._endpoint} refused the request for {name}: "
                f"{error.code} {error.message}"
            ) from error
        except (MinioException, urllib3.exceptions.HTTPError) as error:
            raise StorageUnavailableError(
                f"object store {self._endpoint} cannot be reached ({name}): "
                f"{type(error).__name__}: {error}"
            ) from error


class _ChunksReader(io.RawIOBase):
    """A file reading an iterable of byte chunks end to end, one chunk held at a time, each in
    place: ``io.BytesIO`` copies anything but ``bytes``, and a delivered 8-minute file (a
    ``bytearray``, 92 MB) would be held twice while it uploads."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._view = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        while not self._view:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._view = memoryview(chunk).cast("B")
        n_bytes = min(len(buffer), len(self._view))
        buffer[:n_bytes] = self._view[:n_bytes]
        self._view = self._view[n_bytes:]
        return n_bytes
