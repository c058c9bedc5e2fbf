"""Health: ``GET /healthz`` (the process answers) and ``GET /readyz`` (the database, Redis and
object storage can be reached; 503 naming what cannot)."""

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from voxregen_adapters.service import Service
from voxregen_http.endpoint import service_of


def readiness(service: Service) -> dict[str, str]:
    """``{name: "ok" | "unavailable"}`` for every health check of the service, in its order;
    the reasons go to the log (they may name hosts), not to the response."""
    checks = {}
    for health_check in service.health_checks:
        try:
            health_check.check()
        except Exception as error:  # a check reports any failure, even a bug; it never raises
            structlog.get_logger().warning(
                "not_ready",
                dependency=health_check.name,
                error=f"{type(error).__name__}: {error}",
            )
            checks[health_check.name] = "unavailable"
        else:
            checks[health_check.name] = "ok"
    return checks


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    checks = await run_in_threadpool(readiness, service_of(request))
    ready = all(result == "ok" for result in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
