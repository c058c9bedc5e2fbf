"""``GET /metrics``: the API's Prometheus metrics (:mod:`voxregen_http.metrics`) in the text
exposition format, without auth, like health. A scrape always answers: a database that does
not answer the jobs' count leaves that gauge out and sets ``voxregen_render_jobs_up`` to 0."""

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voxregen_http.metrics import ApiMetrics


def metrics_of(request: Request) -> ApiMetrics:
    return request.app.state.metrics


async def metrics(request: Request) -> Response:
    body = await run_in_threadpool(metrics_of(request).exposition)  # it queries the database
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


ROUTES = [Route("/metrics", metrics, methods=["GET"])]
