"""The Starlette app: :func:`create_app` over a built :class:`Service` (the composition root,
:func:`voxregen.composition.service_parts.build_app`, builds it for ``voxregen api``).

Routes: the /v1 API (:mod:`.routes.profiles`, :mod:`.routes.render_jobs`), the local store's
signed URLs (:mod:`.routes.storage`, when the service signs them), health
(:mod:`.routes.health`) and ``/openapi.yaml``. Errors answer through one table
(:mod:`.errors`); every request leaves one log line (:mod:`.access_log`).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from voxregen_adapters.service import Service
from voxregen_http.access_log import AccessLogMiddleware
from voxregen_http.endpoint import one_route_per_path
from voxregen_http.errors import EXCEPTION_HANDLERS
from voxregen_http.routes import health, openapi, profiles, render_jobs, storage, webhooks


def create_app(service: Service) -> Starlette:
    """The app over ``service``, which it closes at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            service.close()

    signs_urls = service.settings.signing_key is not None
    app = Starlette(
        routes=one_route_per_path(
            [
                *profiles.ROUTES,
                *render_jobs.ROUTES,
                *webhooks.ROUTES,
                *(storage.ROUTES if signs_urls else []),
                *health.ROUTES,
                *openapi.routes(),
            ]
        ),
        middleware=[Middleware(AccessLogMiddleware)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # `/v1/render-jobs/` is no path of the API (a 404), not a redirect to the list: an empty
    # id must not turn a GET of one job into a GET of all of them.
    app.router.redirect_slashes = False
    app.state.service = service
    return app
