"""The producer's web app: ``GET /`` is its page, ``GET /static/{path}`` its ES modules, CSS and
icon, from the package's ``static`` folder (read once, at import: a handful of small files).

The page is a client of the public ``/v1`` API like any other (it has no endpoint of its own),
so these routes need no credentials; the page sends the caller's, as the API expects. The
Content-Security-Policy lets the page run only its own scripts and styles (no inline script,
no framing); ``connect-src`` and ``media-src`` allow any http(s) origin besides its own, as
the presigned URLs name the storage's host, which is the deployment's (an S3 server's)."""

import hashlib
import importlib.resources
import mimetypes

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voxregen_core.errors import NotFoundError

_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: http: https:; connect-src 'self' http: https:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _files() -> dict[str, tuple[bytes, str, str]]:
    """Each file under ``static/`` by its path there: its bytes, content type and ETag."""
    root = importlib.resources.files("voxregen_http") / "static"
    found: dict[str, tuple[bytes, str, str]] = {}
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                pending.append((entry, f"{prefix}{entry.name}/"))
                continue
            suffix = entry.name[entry.name.rfind(".") :]
            kind = _TYPES.get(suffix) or mimetypes.guess_type(entry.name)[0]
            body = entry.read_bytes()
            tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
            found[prefix + entry.name] = (body, kind or "application/octet-stream", tag)
    return found


FILES = _files()


def _answer(request: Request, path: str) -> Response:
    """The file, with an ETag; a conditional GET of an unchanged one is a 304. ``no-cache``:
    the browser asks again each time, so a new release is never half-loaded from its cache."""
    if path not in FILES:
        raise NotFoundError(f"no file {path!r} in the web app")
    body, content_type, tag = FILES[path]
    headers = {
        "ETag": tag,
        "Cache-Control": "no-cache",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    asked = {
        each.strip().removeprefix("W/")
        for each in request.headers.get("If-None-Match", "").split(",")
    }
    if tag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=content_type, headers=headers)  # text/*: utf-8 added


async def index(request: Request) -> Response:
    return _answer(request, "index.html")


async def static_file(request: Request) -> Response:
    return _answer(request, request.path_params["path"])


ROUTES = [
    Route("/", index, methods=["GET"]),
    Route("/static/{path:path}", static_file, methods=["GET"]),
]
