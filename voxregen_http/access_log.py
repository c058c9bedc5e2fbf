"""One JSON summary line per request: ``user_id``, ``method``, ``path``, ``status`` and
``elapsed_ms``.

A pure ASGI middleware around the whole app, so the line is written for every response,
errors included (a request that raises is logged with status 500 before the error goes on).
The caller's ``user_id`` (when the header holds one) is bound in structlog's context variables
for the length of the request, so any line logged while handling it carries it too.
"""

import time

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxregen_http.auth import user_id_or_none


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_s = time.perf_counter()
        status = 500
        user_id = user_id_or_none(Headers(scope=scope))

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        context = {} if user_id is None else {"user_id": str(user_id)}
        with structlog.contextvars.bound_contextvars(**context):
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                structlog.get_logger().info(
                    "request",
                    user_id=context.get("user_id"),
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    elapsed_ms=round((time.perf_counter() - started_s) * 1000, 3),
                )
