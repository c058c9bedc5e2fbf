"""The API process's Prometheus metrics, on a registry of the app's own (so two apps in one
process, as in the tests, never share counts); ``GET /metrics`` serves them
(:mod:`voxregen_http.routes.metrics`), docs/operations.md says what each means and what to
alert on.

- ``voxregen_http_requests_total{method, route, status}``: answers, by route template
  (``/v1/render-jobs/{job_id}``, never the raw path; ``unmatched`` for a path no route takes).
- ``voxregen_http_request_duration_seconds{method, route}``: their latency, a histogram.
- ``voxregen_render_jobs{status}``: jobs by status, counted in the database at each scrape,
  and ``voxregen_render_jobs_up`` (0 when the database did not answer the count).
- ``process_*``: the process's CPU, memory and open files (prometheus_client's collector).
"""

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import generate_latest

from voxregen_adapters.scrape_time_gauge import ScrapeTimeGauge
from voxregen_core.ports import RenderJobRepository

REQUEST_DURATION_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""From a cached GET to an upload of an 8-minute stem through the local store."""


class ApiMetrics:
    """The API's metrics (module docstring); the jobs are counted through ``jobs``."""

    def __init__(self, jobs: RenderJobRepository) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "voxregen_http_requests",
            "HTTP answers by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._durations = Histogram(
            "voxregen_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route template",
            ["method", "route"],
            buckets=REQUEST_DURATION_BUCKETS_S,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        self.registry.register(
            ScrapeTimeGauge(
                "voxregen_render_jobs",
                "Render jobs of all users by status, counted in the database at this scrape",
                label="status",
                source="database",
                read=lambda: {status.value: n for status, n in jobs.count_by_status().items()},
            )
        )

    def observe_request(self, *, method: str, route: str, status: int, elapsed_s: float) -> None:
        """Count one answer and its latency."""
        self._requests.labels(method=method, route=route, status=str(status)).inc()
        self._durations.labels(method=method, route=route).observe(elapsed_s)

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format (blocking: it counts the jobs)."""
        return generate_latest(self.registry)
