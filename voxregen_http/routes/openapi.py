"""``GET /openapi.yaml``: the API's description, ``docs/openapi.yaml``, served as written."""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voxregen_core.errors import ConfigError

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
"""The repository's (or the image's ``/app``) ``docs/openapi.yaml``, next to the packages."""


def load_document() -> bytes:
    try:
        return DOCUMENT.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{DOCUMENT} is missing; install voxregen from its source tree") from None


def routes() -> list[Route]:
    document = load_document()

    async def openapi_yaml(request: Request) -> Response:
        return Response(document, media_type="application/yaml")

    return [Route("/openapi.yaml", openapi_yaml, methods=["GET"])]
