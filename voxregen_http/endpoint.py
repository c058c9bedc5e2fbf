"""How a /v1 handler is called: the caller authenticated (:mod:`voxregen_http.auth`) and held
to the rate limit (:mod:`voxregen_http.rate_limit`), the body structured by
:mod:`voxregen_http.bodies` (or the query string by :mod:`voxregen_http.queries`), the handler
run in the thread pool (the repositories and stores block) and its result answered as JSON.

A handler is a plain function ``handler(service, user_id, [body or query], **path_params) ->
dict`` (``None`` for a 204) that
calls a use case (:mod:`voxregen_core.use_cases`) and renders its answer
(:mod:`voxregen_http.representations`). Every refusal is a
:class:`~voxregen_core.errors.VoxregenError`, which the error table turns into a status code;
one that names a field of the request (:class:`~voxregen_core.errors.InvalidFieldError`)
becomes an :class:`~voxregen_http.errors.InvalidBodyError` at that field's JSON path. A POST
that carries an ``Idempotency-Key`` is answered once (:mod:`voxregen_http.idempotency`).
"""

from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from voxregen_adapters.service import Service
from voxregen_core.errors import InvalidFieldError
from voxregen_http.auth import authenticated_user
from voxregen_http.bodies import parse_body, read_raw_body
from voxregen_http.errors import InvalidBodyError, Problem
from voxregen_http.idempotency import answered_once
from voxregen_http.queries import ListQuery, read_query
from voxregen_http.rate_limit import within_rate_limit


def service_of(request: Request) -> Service:
    return request.app.state.service


def v1_route(
    path: str,
    handler: Callable[..., dict[str, Any] | None],
    *,
    methods: Sequence[str] = ("POST",),
    body: type | None = None,
    query: type[ListQuery] | None = None,
    status_code: int = 200,
) -> Route:
    async def endpoint(request: Request) -> Response:
        service = service_of(request)
        user_id = await authenticated_user(request, service)
        await within_rate_limit(service, user_id)
        raw = await read_raw_body(request)  # read (and bounded) even where it is unused

        async def answer() -> Response:
            args = () if body is None else (parse_body(request, raw, body),)
            if query is not None:
                args += (read_query(request.query_params, query),)
            try:
                result = await run_in_threadpool(
                    handler, service, user_id, *args, **request.path_params
                )
            except InvalidFieldError as error:
                raise InvalidBodyError([Problem(f"$.{error.field}", error.message)]) from None
            if status_code == 204:
                return Response(status_code=204)
            return JSONResponse(result, status_code=status_code)

        if "POST" in methods:
            return await answered_once(request, service, user_id, raw, answer)
        return await answer()

    return Route(path, endpoint, methods=list(methods), name=handler.__name__)


def one_route_per_path(routes: Sequence[Route]) -> list[Route]:
    """``routes`` with those of one path merged into one route that dispatches on the method,
    so that a method none of them takes is a 405 whose ``Allow`` lists all of theirs (Starlette
    answers a 405 from the first route whose path matches)."""
    by_path: dict[str, list[Route]] = {}
    for route in routes:
        by_path.setdefault(route.path, []).append(route)
    return [group[0] if len(group) == 1 else _dispatching(group) for group in by_path.values()]


def _dispatching(routes: list[Route]) -> Route:
    endpoints = {method: route.endpoint for route in routes for method in route.methods or ()}

    async def endpoint(request: Request) -> Response:
        return await endpoints[request.method](request)

    names = "+".join(route.name for route in routes)
    return Route(routes[0].path, endpoint, methods=list(endpoints), name=names)
