"""One JSON summary line per request: ``user_id``, ``method``, ``path``, ``status`` and
``elapsed_ms``.

A pure ASGI middleware around the whole app, so the line is written for every response,
errors included (a request that raises is logged with status 500 before the error goes on).
The caller's ``user_id`` is the one authentication found (:mod:`voxregen_http.auth`, which
binds it in structlog's context variables, so any line logged while handling the request
carries it too), or none.
"""

import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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

        with structlog.contextvars.bound_contextvars(user_id=None):
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                user_id = scope.get("state", {}).get("user_id")
                structlog.get_logger().info(
                    "request",
                    user_id=None if user_id is None else str(user_id),
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    elapsed_ms=round((time.perf_counter() - started_s) * 1000, 3),
                )
