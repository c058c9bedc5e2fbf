"""``GET /openapi.yaml``: the API's description, ``voxregen_http/openapi.yaml``, served as
written."""

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voxregen_core.errors import ConfigError

DOCUMENT = files("voxregen_http") / "openapi.yaml"
"""The package's ``openapi.yaml`` (package data, pyproject.toml): found in an installed wheel as
in the source tree."""


def load_document() -> bytes:
    try:
        return DOCUMENT.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{DOCUMENT} is missing; reinstall voxregen") from None


def routes() -> list[Route]:
    document = load_document()

    async def openapi_yaml(request: Request) -> Response:
        return Response(document, media_type="application/yaml")

    return [Route("/openapi.yaml", openapi_yaml, methods=["GET"])]
