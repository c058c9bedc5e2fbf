"""The Starlette app: :func:`create_app` over a built :class:`Service` (the composition root,
:func:`voxregen.composition.service_parts.build_app`, builds it for ``voxregen api``).

Routes: the /v1 API (:mod:`.routes.profiles`, :mod:`.routes.render_jobs`), the local store's
signed URLs (:mod:`.routes.storage`, when the service signs them), health
(:mod:`.routes.health`), ``/metrics`` (:mod:`.routes.metrics`), ``/openapi.yaml`` and the
web app's page and files (:mod:`.routes.web_app`). Errors
answer through one table (:mod:`.errors`); every request has an ``X-Request-Id``
(:mod:`.request_id`), is counted and timed (:mod:`.request_metrics`) and leaves one log line
(:mod:`.access_log`).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from voxregen_adapters.service import Service
from voxregen_http.access_log import AccessLogMiddleware
from voxregen_http.endpoint import one_route_per_path
from voxregen_http.errors import EXCEPTION_HANDLERS
from voxregen_http.metrics import ApiMetrics
from voxregen_http.request_id import RequestIdMiddleware
from voxregen_http.request_metrics import RequestMetricsMiddleware
from voxregen_http.routes import (
    health,
    metrics,
    openapi,
    profiles,
    render_jobs,
    storage,
    web_app,
    webhooks,
)


class _App(Starlette):
    """Starlette with :class:`RequestIdMiddleware` outside its whole stack, its own error
    middleware included: the 500 answered for a bug carries the ``X-Request-Id`` too, and the
    error's log line the request id (user middleware runs inside that error middleware)."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestIdMiddleware(super().build_middleware_stack())


def create_app(service: Service) -> Starlette:
    """The app over ``service``, which it closes at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            service.close()

    signs_urls = service.settings.signing_key is not None
    api_metrics = ApiMetrics(service.jobs)
    app = _App(
        routes=one_route_per_path(
            [
                *profiles.ROUTES,
                *render_jobs.ROUTES,
                *webhooks.ROUTES,
                *(storage.ROUTES if signs_urls else []),
                *health.ROUTES,
                *metrics.ROUTES,
                *openapi.routes(),
                *web_app.ROUTES,
            ]
        ),
        middleware=[
            Middleware(RequestMetricsMiddleware, metrics=api_metrics),
            Middleware(AccessLogMiddleware),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # `/v1/render-jobs/` is no path of the API (a 404), not a redirect to the list: an empty
    # id must not turn a GET of one job into a GET of all of them.
    app.router.redirect_slashes = False
    app.state.service = service
    app.state.metrics = api_metrics
    return app
