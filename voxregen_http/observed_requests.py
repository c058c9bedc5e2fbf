"""``ObservedRequests``: a pure ASGI middleware that tells :meth:`~ObservedRequests.observe`
of each HTTP request once it is answered, with its status and how long it took; a request
that raises is observed as a 500 before the error goes on. The access log and the request
metrics are two such observers."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ObservedRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def observe(self, scope: Scope, *, status: int, elapsed_s: float) -> None:
        raise NotImplementedError

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
            self.observe(scope, status=status, elapsed_s=time.perf_counter() - started_s)
