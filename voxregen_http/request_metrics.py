"""Each answer counted and timed in :class:`~voxregen_http.metrics.ApiMetrics`, by method,
route template and status.

An :class:`~voxregen_http.observed_requests.ObservedRequests` middleware, so errors count too (a request that raises counts as a 500). The
labels are bounded whatever clients send: the route is the template of the route that took
the request (``/v1/render-jobs/{job_id}``, its convertors dropped) or ``unmatched``, and a
method outside HTTP's usual ones is ``other``.
"""

import re

from starlette.types import ASGIApp, Scope

from voxregen_http.metrics import ApiMetrics
from voxregen_http.observed_requests import ObservedRequests

UNMATCHED = "unmatched"
"""The route label of a request no route took (a 404 of Starlette's router)."""
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CONVERTOR = re.compile(r"\{([^}:]+):[^}]+\}")


class RequestMetricsMiddleware(ObservedRequests):
    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    def observe(self, scope: Scope, *, status: int, elapsed_s: float) -> None:
        self.metrics.observe_request(
            method=scope["method"] if scope["method"] in METHODS else OTHER_METHOD,
            route=route_template(scope),
            status=status,
            elapsed_s=elapsed_s,
        )


def route_template(scope: Scope) -> str:
    """The path template of the route that took the request, as the API document writes it
    (``{job_id}``, not ``{job_id:uuid}``); :data:`UNMATCHED` if none did. Starlette's router
    puts the route in the scope, the one this middleware passed on."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return UNMATCHED if path is None else _CONVERTOR.sub(r"{\1}", path)
