"""One JSON summary line per request: ``user_id``, ``method``, ``path``, ``status`` and
``elapsed_ms``.

A pure ASGI middleware around the whole app (:class:`~voxregen_http.observed_requests.
ObservedRequests`), so the line is written for every response, errors included (a request that
raises is logged with status 500 before the error goes on). The caller's ``user_id`` is the one
authentication found (:mod:`voxregen_http.auth`, which binds it in structlog's context
variables, so any line logged while handling the request carries it too), or none.
"""

import structlog
from starlette.types import Receive, Scope, Send

from voxregen_http.observed_requests import ObservedRequests


class AccessLogMiddleware(ObservedRequests):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with structlog.contextvars.bound_contextvars(user_id=None):  # what auth binds, undone
            await super().__call__(scope, receive, send)

    def observe(self, scope: Scope, *, status: int, elapsed_s: float) -> None:
        user_id = scope.get("state", {}).get("user_id")
        structlog.get_logger().info(
            "request",
            user_id=None if user_id is None else str(user_id),
            method=scope["method"],
            path=scope["path"],
            status=status,
            elapsed_ms=round(elapsed_s * 1000, 3),
        )
