"""What an upload must be before a reference commit or a render job takes it: stored under a
key the caller owns, and no larger than the largest stem the service accepts.

``MAX_UPLOAD_BYTES`` is the size of an 8-minute stereo WAV at 192 kHz and 32 bits, plus 1 MiB
for headers and metadata chunks: about 738 MB. Anything larger cannot be a stem the render
accepts at any common studio format, so it is refused before a worker downloads it.
"""

import uuid
from datetime import datetime, timedelta

from voxregen_core import spec
from voxregen_core.errors import InvalidKeyError, ObjectNotFoundError, UploadTooLargeError
from voxregen_core.keys import KeyKind, parse_key
from voxregen_core.ports import ObjectStore

MAX_UPLOAD_BYTES = int(spec.MAX_INPUT_S) * 192_000 * 4 * 2 + 2**20
UPLOAD_URL_EXPIRES_S = 3600
"""How long a prepare-upload's PUT URL works."""
DOWNLOAD_URL_EXPIRES_S = 3600
"""How long a download URL works."""


def expires_at(now: datetime, expires_s: int) -> str:
    """ISO 8601 UTC time at which a URL issued ``now`` for ``expires_s`` seconds stops working."""
    return (now + timedelta(seconds=expires_s)).isoformat()


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
    """The job id that render-jobs:prepare-upload reserved in ``input_object_key``.

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
