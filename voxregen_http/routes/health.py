"""Health: ``GET /healthz`` (the process answers) and ``GET /readyz`` (the database, Redis and
object storage can be reached; 503 naming what cannot)."""

import uuid

import redis
import sqlalchemy as sa
import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from voxregen_adapters.db.transaction import transaction
from voxregen_adapters.service import Service
from voxregen_core.keys import job_input_key
from voxregen_http.endpoint import service_of

PROBE_TIMEOUT_S = 2.0
_PROBE_ID = uuid.UUID(int=0)


def _database(service: Service) -> None:
    with transaction(service.engine) as connection:
        connection.execute(sa.text("SELECT 1"))


def _redis(service: Service) -> None:
    client = redis.Redis.from_url(
        service.settings.redis_url or "",
        socket_connect_timeout=PROBE_TIMEOUT_S,
        socket_timeout=PROBE_TIMEOUT_S,
    )
    try:
        client.ping()
    finally:
        client.close()


def _storage(service: Service) -> None:
    service.store.exists(job_input_key(_PROBE_ID, _PROBE_ID))


PROBES = {"database": _database, "redis": _redis, "storage": _storage}


def readiness(service: Service) -> dict[str, str]:
    """``{name: "ok" | "unavailable"}`` for every dependency; the reasons go to the log (they
    may name hosts), not to the response."""
    checks = {}
    for name, probe in PROBES.items():
        try:
            probe(service)
        except Exception as error:  # a probe reports any failure; it never raises
            structlog.get_logger().warning(
                "not_ready", dependency=name, error=f"{type(error).__name__}: {error}"
            )
            checks[name] = "unavailable"
        else:
            checks[name] = "ok"
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
