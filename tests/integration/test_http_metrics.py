"""``GET /metrics`` of the app over a real service (PostgreSQL, Redis): scraped and parsed with
prometheus_client's parser, the request counters move by exactly the requests made, by route
template (never a raw path), the latency histogram counts them, the jobs-by-status gauge
matches the rows, and a scrape with the database down still answers."""

import uuid

import structlog

from tests.integration.http_api import TestClient, as_user, new_job_body, running_api
from tests.scraped import Scrape
from voxregen.composition.service_parts import build_service
from voxregen_adapters.settings import load_settings
from voxregen_core.jobs import JobStatus
from voxregen_http.app import create_app

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
JOB_ROUTE = "/v1/render-jobs/{job_id}"
REQUESTS = "voxregen_http_requests_total"
DURATION = "voxregen_http_request_duration_seconds"


def scrape(client: TestClient) -> Scrape:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return Scrape.parse(response.text)


def test_requests_are_counted_and_timed_by_route_template_method_and_status(
    fresh_database_url, redis_url, tmp_path
):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        body = new_job_body(api, ALICE, b"RIFF-stem")
        job_id = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE)).json()["id"]
        before = scrape(api.client)
        for _ in range(3):
            assert api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).is_success
        for _ in range(2):  # another user's job, and one that does not exist: the same route
            assert (
                api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(BOB)).status_code == 404
            )
        missing = api.client.get(f"/v1/render-jobs/{uuid.uuid4()}", headers=as_user(ALICE))
        assert missing.status_code == 404
        assert api.client.get(f"/v1/render-jobs/{job_id}").status_code == 401
        assert (
            api.client.put(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).status_code == 405
        )
        assert api.client.get("/v1/render-jobs/not-a-uuid").status_code == 404
        assert api.client.get("/no/such/path").status_code == 404
        after = scrape(api.client)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    job_get = {"method": "GET", "route": JOB_ROUTE}
    assert moved(REQUESTS, **job_get, status="200") == 3
    assert moved(REQUESTS, **job_get, status="404") == 3
    assert moved(REQUESTS, **job_get, status="401") == 1
    assert moved(REQUESTS, method="PUT", route=JOB_ROUTE, status="405") == 1
    assert moved(REQUESTS, method="GET", route="unmatched", status="404") == 2
    assert moved(REQUESTS, method="GET", route="/metrics", status="200") == 1  # `before` itself
    assert after.types["voxregen_http_requests"] == "counter"
    # no raw path, id or convertor in any label
    routes = {labels["route"] for labels in after.labelled(REQUESTS)}
    assert job_id not in "".join(routes) and not any(":uuid" in route for route in routes)
    assert {"/v1/render-jobs", "/v1/render-jobs:prepare-upload", JOB_ROUTE} <= routes

    assert after.types[DURATION] == "histogram"
    assert moved(f"{DURATION}_count", **job_get) == 7
    assert moved(f"{DURATION}_sum", **job_get) > 0
    buckets = after.buckets(DURATION, **job_get)
    assert buckets[-1] == (float("inf"), after.value(f"{DURATION}_count", **job_get))
    counts = [count for _, count in buckets]
    assert counts == sorted(counts)  # cumulative


def test_a_method_outside_the_usual_ones_is_labelled_other(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        for method in ("BREW", "PROPFIND", "X" * 200):
            api.client.request(method, "/healthz")
        after = scrape(api.client)
    assert after.value(REQUESTS, method="other", route="/healthz", status="405") == 3
    # the scrape is counted once it is answered: the three requests are all there is
    assert {labels["method"] for labels in after.labelled(REQUESTS)} == {"other"}


def test_the_jobs_gauge_counts_the_rows_by_status_at_each_scrape(
    fresh_database_url, redis_url, tmp_path
):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        empty = scrape(api.client)
        made = []
        for user_id in (ALICE, BOB, ALICE, BOB, ALICE):
            body = new_job_body(api, user_id, b"RIFF-stem")
            created = api.client.post("/v1/render-jobs", json=body, headers=as_user(user_id))
            assert created.status_code == 201, created.text
            made.append((user_id, uuid.UUID(created.json()["id"])))
        queued = scrape(api.client)
        jobs = api.service.jobs
        for user_id, job_id in made[:3]:
            assert jobs.transition(
                user_id=user_id,
                job_id=job_id,
                from_status=JobStatus.QUEUED,
                to_status=JobStatus.RUNNING,
            )
        failed = {"error_code": "render_timed_out", "error_message": "the deadline passed"}
        assert jobs.transition(
            user_id=made[0][0],
            job_id=made[0][1],
            from_status=JobStatus.RUNNING,
            to_status=JobStatus.FAILED,
            **failed,
        )
        user_id, job_id = made[3]
        assert api.client.post(
            f"/v1/render-jobs/{job_id}:cancel", headers=as_user(user_id)
        ).is_success
        moved = scrape(api.client)

    def jobs_by_status(scraped: Scrape) -> dict[str, float]:
        return {
            status.value: scraped.value("voxregen_render_jobs", status=status.value)
            for status in JobStatus
        }

    none = dict.fromkeys((status.value for status in JobStatus), 0.0)
    assert jobs_by_status(empty) == none
    assert jobs_by_status(queued) == none | {"queued": 5.0}
    assert jobs_by_status(moved) == none | {
        "queued": 1.0,
        "running": 2.0,
        "failed": 1.0,
        "canceled": 1.0,
    }
    assert len(moved.labelled("voxregen_render_jobs")) == len(JobStatus)  # zeros reported too
    assert moved.types["voxregen_render_jobs"] == "gauge"
    assert [s.value("voxregen_render_jobs_up") for s in (empty, queued, moved)] == [1.0] * 3


def test_a_scrape_with_the_database_down_still_answers_and_says_so(tmp_path):
    settings = load_settings(
        {
            "VOXREGEN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/voxregen",
            "VOXREGEN_REDIS_URL": "unix:///nonexistent/voxregen-test/redis.sock",
            "VOXREGEN_STORAGE_URL": tmp_path.as_uri(),
            "VOXREGEN_SIGNING_KEY": "metrics-test-signing-key-0123456789abcdef",
        }
    )
    with (
        TestClient(create_app(build_service(settings))) as client,
        structlog.testing.capture_logs() as logs,
    ):
        assert client.get("/healthz").status_code == 200
        first = scrape(client)
        second = scrape(client)
    for scraped in (first, second):
        assert scraped.value("voxregen_render_jobs_up") == 0
        assert scraped.labelled("voxregen_render_jobs") == []
        assert scraped.value("process_resident_memory_bytes") > 0
    assert second.value(REQUESTS, method="GET", route="/healthz", status="200") == 1
    assert second.value(REQUESTS, method="GET", route="/metrics", status="200") == 1
    unavailable = [entry for entry in logs if entry["event"] == "metrics_source_unavailable"]
    assert len(unavailable) == 2
    assert unavailable[0]["source"] == "database"
    assert unavailable[0]["error"].startswith("DatabaseUnavailableError: cannot use the database")
