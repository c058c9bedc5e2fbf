"""Each answer counted and timed in :class:`~voxregen_http.metrics.ApiMetrics`, by method,
route template and status.

A pure ASGI middleware, so errors count too (a request that raises counts as a 500). The
labels are bounded whatever clients send: the route is the template of the route that took
the request (``/v1/render-jobs/{job_id}``, its convertors dropped) or ``unmatched``, and a
method outside HTTP's usual ones is ``other``.
"""

import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxregen_http.metrics import ApiMetrics

UNMATCHED = "unmatched"
"""The route label of a request no route took (a 404 of Starlette's router)."""
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CONVERTOR = re.compile(r"\{([^}:]+):[^}]+\}")


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_s = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.observe_request(
                method=scope["method"] if scope["method"] in METHODS else OTHER_METHOD,
                route=route_template(scope),
                status=status,
                elapsed_s=time.perf_counter() - started_s,
            )


def route_template(scope: Scope) -> str:
    """The path template of the route that took the request, as the API document writes it
    (``{job_id}``, not ``{job_id:uuid}``); :data:`UNMATCHED` if none did. Starlette's router
    puts the route in the scope, the one this middleware passed on."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return UNMATCHED if path is None else _CONVERTOR.sub(r"{\1}", path)
