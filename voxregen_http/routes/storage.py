"""``/storage/{key}``: the local object store's presigned URLs, served.

:class:`~voxregen_adapters.local_object_store.LocalObjectStore` issues URLs to this route
(``{VOXREGEN_PUBLIC_URL}/storage/{key}?expires=…&signature=…``). A request is served only if
the signature grants the request's own method (GET or PUT) on that key and has not expired
(:func:`voxregen_adapters.url_signing.verify`); anything else is 403, whatever the key. A PUT
stores its body as an upload (at most ``MAX_UPLOAD_BYTES``, else 413), only under an upload key
(422 otherwise) and only until a job or reference is created on it (409 ``upload_sealed``
after: :func:`~voxregen_core.use_cases.uploads.accept_upload`); a GET answers the object's
bytes, streamed from the file. No ``X-User-Id`` is needed: the signature is the grant.

Mounted only when the service has a signing key (local storage); with S3, presigned URLs
point at the S3 server itself.
"""

import re
import time
from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from voxregen_adapters import url_signing
from voxregen_core.errors import UploadTooLargeError
from voxregen_core.ports import ObjectStore
from voxregen_core.use_cases.uploads import MAX_UPLOAD_BYTES, accept_upload
from voxregen_http.bodies import STREAMED_PIECE_BYTES, streamed_body
from voxregen_http.endpoint import service_of
from voxregen_http.errors import error_response

_DIGITS = re.compile(r"[0-9]{1,12}")


async def storage_object(request: Request) -> Response:
    service = service_of(request)
    key = request.path_params["key"]
    expires = request.query_params.get("expires", "")
    signature = request.query_params.get("signature", "")
    if not _DIGITS.fullmatch(expires) or not url_signing.verify(
        method=request.method,
        key=key,
        expires_at_s=int(expires),
        signature=signature,
        signing_key=service.settings.signing_key or b"",
        now_s=time.time(),
    ):
        return error_response(
            403, "forbidden", "the URL's signature is invalid or expired for this method and key"
        )
    if request.method == "GET":  # streamed from the file: the API never holds an object whole
        size_bytes = await run_in_threadpool(service.store.size, key)  # 404 if there is none
        return StreamingResponse(
            _object_pieces(service.store, key),
            media_type="audio/wav",
            headers={"Content-Length": str(size_bytes)},
        )
    try:  # stored as it arrives: the API never holds a stem (up to 737 MB) in memory
        body = streamed_body(request, MAX_UPLOAD_BYTES)
        await run_in_threadpool(accept_upload, service.store, key, body)
    except UploadTooLargeError as error:
        return error_response(413, error.code, error.message)
    return Response(status_code=204)


def _object_pieces(store: ObjectStore, key: str) -> Iterator[bytes]:
    """The object under ``key``, a MiB at a time (Starlette reads it on a worker thread)."""
    with store.open(key) as file:
        while piece := file.read(STREAMED_PIECE_BYTES):
            yield piece


ROUTES = [Route("/storage/{key:path}", storage_object, methods=["GET", "PUT"])]
