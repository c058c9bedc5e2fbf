"""How a /v1 handler is called: the caller from ``X-User-Id``, the body structured by
:mod:`voxregen_http.bodies`, the handler run in the thread pool (the repositories and stores
block) and its result answered as JSON.

A handler is a plain function ``handler(service, user_id, [body], **path_params) -> dict`` that
raises :class:`~voxregen_core.errors.VoxregenError` for every refusal; the error table turns
those into status codes.
"""

from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from voxregen_adapters.service import Service
from voxregen_http.auth import caller
from voxregen_http.bodies import read_body, read_raw_body


def service_of(request: Request) -> Service:
    return request.app.state.service


def v1_route(
    path: str,
    handler: Callable[..., dict[str, Any]],
    *,
    methods: Sequence[str] = ("POST",),
    body: type | None = None,
    status_code: int = 200,
) -> Route:
    async def endpoint(request: Request) -> JSONResponse:
        user_id = caller(request.headers)
        if body is None:
            await read_raw_body(request)  # unused, but no larger than any other body
            args = ()
        else:
            args = (await read_body(request, body),)
        result = await run_in_threadpool(
            handler, service_of(request), user_id, *args, **request.path_params
        )
        return JSONResponse(result, status_code=status_code)

    return Route(path, endpoint, methods=list(methods), name=handler.__name__)
