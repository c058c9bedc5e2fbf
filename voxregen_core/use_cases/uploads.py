"""What an upload must be before a reference commit or a render job takes it: stored under a
key the caller owns, and no larger than the largest stem the service accepts; the presigned
URLs that upload and download objects; and the rule that an upload URL writes once.

**An upload URL writes until its job or reference is created, then never again.** A job input
or reference key (the brief's keys, which the job or profile build reads) has an upload key
beside it (:func:`~voxregen_core.keys.upload_key_for`), and prepare-upload's PUT URL writes the
upload key only. Creating the job or committing the reference takes the upload
(:func:`take_upload`): the object moves to the brief's key, which no URL writes. So a second
PUT to the URL, whoever holds it, cannot change what a job, its clones or a profile build read.
Before the create, PUTs overwrite one another (a user who uploaded the wrong file uploads
again); after it, the local store's route refuses them (:func:`accept_upload`: 409
``upload_sealed``), and S3, which serves its presigned URLs itself, stores them under the
upload key, where nothing reads them (they are deleted with the job or profile).

``MAX_UPLOAD_BYTES`` is the size of an 8-minute stereo WAV at 192 kHz and 32 bits, plus 1 MiB
for headers and metadata chunks: about 738 MB. Anything larger cannot be a stem the render
accepts at any common studio format, so it is refused before a worker downloads it.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from voxregen_core import spec
from voxregen_core.errors import (
    InvalidKeyError,
    ObjectNotFoundError,
    UploadSealedError,
    UploadTooLargeError,
)
from voxregen_core.keys import KeyKind, parse_key, upload_key_for, upload_target
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
    """A PUT URL for the upload of ``key``, a job input or reference key (which reserves
    ``object_id``), for ``UPLOAD_URL_EXPIRES_S``: it writes ``key``'s upload key, which the job
    or reference created on ``key`` takes (module docstring)."""
    return PreparedUpload(
        id=object_id,
        object_key=key,
        upload_url=store.presigned_put_url(upload_key_for(key), expires_s=UPLOAD_URL_EXPIRES_S),
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


def accept_upload(store: ObjectStore, upload_key: str, body: Iterable[bytes]) -> None:
    """Store an upload URL's body (its chunks as they arrive) under ``upload_key``, replacing an
    earlier upload once the whole body is in, while no job or reference was created on it.
    Raises :class:`UploadSealedError` once one was (its key holds the object), before any of
    ``body`` is read; :class:`InvalidKeyError` for a key that is not an upload key; and what
    reading ``body`` raises, with nothing stored."""
    key = upload_target(upload_key)
    if store.exists(key):
        raise UploadSealedError(
            f"{key} was created from this upload already, and an upload URL writes only until "
            "then; prepare a new upload to send another file"
        )
    store.put_stream(upload_key, body)


def take_upload(store: ObjectStore, key: str) -> int:
    """Make the upload of ``key`` (a job input or reference key) the object under ``key``, once,
    and return its size in bytes: what a create or commit calls last, after every other check.

    If ``key`` holds an object already, the upload was taken before (or the service stored the
    object there itself) and that object stays, whatever the upload key got since. Otherwise
    the upload is checked (:func:`check_upload`) and moved to ``key``. Raises
    :class:`ObjectNotFoundError` if nothing was uploaded, :class:`UploadTooLargeError`.
    """
    if store.exists(key):
        return check_upload(store, key)
    upload_key = upload_key_for(key)
    try:
        size_bytes = check_upload(store, upload_key)
    except ObjectNotFoundError:
        raise ObjectNotFoundError(
            f"no object under {key}: nothing was uploaded to its upload URL"
        ) from None
    store.move(upload_key, key)
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
