"""What an upload must be before a reference commit or a render job takes it: stored under a
key the caller owns, and no larger than the largest stem the service accepts; and the
presigned URLs that upload and download objects.

``MAX_UPLOAD_BYTES`` is the size of an 8-minute stereo WAV at 192 kHz and 32 bits, plus 1 MiB
for headers and metadata chunks: about 738 MB. Anything larger cannot be a stem the render
accepts at any common studio format, so it is refused before a worker downloads it.
"""

import uuid
from datetime import datetime, timedelta

import attrs

from voxregen_core import spec
from voxregen_core.errors import InvalidKeyError, ObjectNotFoundError, UploadTooLargeError
from voxregen_core.keys import KeyKind, parse_key
from voxregen_core.ports import Clock, ObjectStore

MAX_UPLOAD_BYTES = int(spec.MAX_INPUT_S) * 192_000 * 4 * 2 + 2**20
UPLOAD_URL_EXPIRES_S = 3600
"""How long a prepare-upload's PUT URL works."""
DOWNLOAD_URL_EXPIRES_S = 3600
"""How long a download URL works."""


@attrs.frozen
class PreparedUpload:
    """Where a client uploads a new object: the id the object's key reserves (a job's or a
    reference's), the key, and a PUT URL for it that works until ``expires_at`` (UTC)."""

    id: uuid.UUID
    object_key: str
    upload_url: str
    expires_at: datetime


@attrs.frozen
class DownloadLink:
    """A GET URL for an object, working until ``expires_at`` (UTC)."""

    download_url: str
    expires_at: datetime


def prepare_upload(
    store: ObjectStore, clock: Clock, object_id: uuid.UUID, key: str
) -> PreparedUpload:
    """A PUT URL for ``key`` (which reserves ``object_id``), for ``UPLOAD_URL_EXPIRES_S``."""
    return PreparedUpload(
        id=object_id,
        object_key=key,
        upload_url=store.presigned_put_url(key, expires_s=UPLOAD_URL_EXPIRES_S),
        expires_at=clock.now() + timedelta(seconds=UPLOAD_URL_EXPIRES_S),
    )


def download_link(store: ObjectStore, clock: Clock, key: str) -> DownloadLink:
    """A GET URL for ``key``, for ``DOWNLOAD_URL_EXPIRES_S``."""
    return DownloadLink(
        download_url=store.presigned_get_url(key, expires_s=DOWNLOAD_URL_EXPIRES_S),
        expires_at=clock.now() + timedelta(seconds=DOWNLOAD_URL_EXPIRES_S),
    )


def check_upload(store: ObjectStore, key: str) -> int:
    """The size in bytes of the object under ``key``; raises :class:`ObjectNotFoundError` if
    nothing was uploaded there, :class:`UploadTooLargeError` above ``MAX_UPLOAD_BYTES``."""
    size_bytes = store.size(key)
    if size_bytes > MAX_UPLOAD_BYTES:
        raise UploadTooLargeError(
            f"the upload under {key} is {size_bytes} bytes; the limit is {MAX_UPLOAD_BYTES} "
            "bytes (an 8-minute 192 kHz 32-bit stereo WAV)"
        )
    return size_bytes


def reserved_job_id(input_object_key: str, *, user_id: uuid.UUID) -> uuid.UUID:
    """The job id that a job upload's preparation reserved in ``input_object_key``.

    Raises :class:`InvalidKeyError` for a key that is not a job input key, and
    :class:`ObjectNotFoundError` for another user's key, exactly as for a key never uploaded.
    """
    parsed = parse_key(input_object_key)
    if parsed.kind is not KeyKind.JOB_INPUT:
        raise InvalidKeyError(
            f"input_object_key must be a job input key (users/{{user_id}}/jobs/{{job_id}}"
            f"/input.wav) from render-jobs:prepare-upload, got a {parsed.kind.value} key"
        )
    if parsed.user_id != user_id:
        raise ObjectNotFoundError(f"no object under {input_object_key}")
    return parsed.job_id
