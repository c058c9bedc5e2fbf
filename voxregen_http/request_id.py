"""``X-Request-Id``: every request has one, every answer echoes it.

The caller's id is kept when it is valid (1 to 128 of ``[A-Za-z0-9._-]``); a missing or invalid
one is replaced by a new one (a UUID's 32 hex digits), never refused: a request is not failed
for what a proxy put in a header, and the answer's ``X-Request-Id`` is always the id to quote
(:mod:`voxregen_core.request_ids`).

A pure ASGI middleware outside everything else, Starlette's own error middleware included
(:func:`voxregen_http.app.create_app`), so a 500 from a bug carries the header too. The id is
bound for the whole request (:func:`~voxregen_adapters.request_context.bound_request_id`): every
log line the request causes carries it as ``request_id``, and so does every queue message it
sends, and through them the worker's log lines for that work.
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voxregen_adapters.request_context import bound_request_id
from voxregen_core.request_ids import request_id_or_new

HEADER = "X-Request-Id"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_or_new(Headers(scope=scope).get(HEADER))

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with bound_request_id(request_id):
            await self.app(scope, receive, send_with_request_id)
