"""Moving files to and from the presigned storage URLs the API hands out (the service's own
``/storage/…`` route with local storage, the S3 server otherwise). Those URLs are the grant:
they get no API key, only the file.

Both directions stream: an upload sends the file in ``BLOCK_BYTES`` blocks read as they are
sent (an 8-minute 96 kHz stereo stem is never held whole), with an explicit
``Content-Length`` (S3 refuses a chunked PUT); a download writes blocks to a temporary file
beside the target and moves it into place only once complete, so a cut transfer leaves nothing
half-written under the target's name.
"""

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from voxregen_client.errors import ServiceUnreachableError, api_error
from voxregen_client.retries import RetryPolicy, send_with_retries

BLOCK_BYTES = 1 << 20

ProgressCallback = Callable[[int, int], None]
"""``(bytes_so_far, total_bytes)``, called after each block."""


def upload_file(
    http: httpx.Client,
    url: str,
    path: Path,
    *,
    policy: RetryPolicy,
    on_progress: ProgressCallback | None = None,
) -> None:
    """PUT the file at ``path`` to the presigned ``url``; raises the typed error of a refusal,
    :class:`ServiceUnreachableError` if the storage cannot be reached."""
    total_bytes = path.stat().st_size

    def build() -> httpx.Request:
        return http.build_request(
            "PUT",
            url,
            content=_blocks(path, total_bytes, on_progress),
            headers={"Content-Length": str(total_bytes), "Content-Type": "audio/wav"},
        )

    try:
        response = send_with_retries(http, build, policy)
    except httpx.TransportError as error:
        raise ServiceUnreachableError(f"could not upload to the storage: {error}") from error
    if response.is_error:
        raise api_error(response)


def download_file(
    http: httpx.Client,
    url: str,
    path: Path,
    *,
    policy: RetryPolicy,
    overwrite: bool,
    on_progress: ProgressCallback | None = None,
) -> None:
    """GET the presigned ``url`` into the file at ``path``; raises :class:`FileExistsError` if
    ``path`` exists once the transfer is complete and not ``overwrite``."""
    temporary = _fetched(http, url, path, policy=policy, on_progress=on_progress)
    try:
        if overwrite:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails, rather than replaces, if the path appeared
    finally:
        temporary.unlink(missing_ok=True)


def _fetched(
    http: httpx.Client,
    url: str,
    path: Path,
    *,
    policy: RetryPolicy,
    on_progress: ProgressCallback | None,
) -> Path:
    """The body at ``url`` in a new temporary file beside ``path``; fetched again from the
    start if the connection is cut mid-body, up to ``policy.max_attempts`` times."""
    attempt = 0
    while True:
        attempt += 1
        try:
            response = send_with_retries(
                http, lambda: http.build_request("GET", url), policy, stream=True
            )
        except httpx.TransportError as error:
            raise ServiceUnreachableError(
                f"could not download from the storage: {error}"
            ) from error
        try:
            if response.is_error:
                response.read()
                raise api_error(response)
            return _write(response, path, on_progress)
        except httpx.TransportError as error:
            if attempt >= policy.max_attempts:
                raise ServiceUnreachableError(
                    f"the download was cut {attempt} times: {error}"
                ) from error
            policy.sleep(policy.backoff_s(attempt))
        finally:
            response.close()


def _write(response: httpx.Response, path: Path, on_progress: ProgressCallback | None) -> Path:
    """The body of ``response`` in a new temporary file beside ``path``; its path."""
    total_bytes = int(response.headers.get("Content-Length", 0))
    received = 0
    # Not tempfile.mkstemp, which makes the file 0600 whatever the umask: the download is the
    # user's file, made as any program makes one (0666 less the umask; O_EXCL on a random name).
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.part")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            for block in response.iter_bytes(BLOCK_BYTES):
                file.write(block)
                received += len(block)
                if on_progress is not None:
                    on_progress(received, max(total_bytes, received))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _blocks(path: Path, total_bytes: int, on_progress: ProgressCallback | None) -> Iterator[bytes]:
    sent = 0
    with path.open("rb") as file:
        while block := file.read(BLOCK_BYTES):
            yield block
            sent += len(block)
            if on_progress is not None:
                on_progress(sent, total_bytes)
