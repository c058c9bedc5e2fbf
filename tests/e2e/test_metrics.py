"""Metrics and request ids with the real processes: a worker with its metrics port set renders
a job, and its own ``/metrics`` (parsed with prometheus_client's parser) counts each chunk it
generated and times each stage; the ``X-Request-Id`` sent on the job's create is in every log
line the worker wrote for that job, its fanned-out chunks included; the API's ``/metrics``
counts the create under its route and the job as done."""

import httpx
import pytest

from tests.e2e.stack import HTTP_TIMEOUT_S, free_port, singing_wav, stem_s_for, wait_for
from tests.scraped import Scrape

CHUNKS = 4
STAGES = {"decode", "features", "stitch", "master", "export", "upload"}
REQUEST_ID = "e2e-create.7f3a_9"


def _scrape(url: str) -> Scrape:
    response = httpx.get(url, timeout=HTTP_TIMEOUT_S)
    assert response.status_code == 200, response.text
    return Scrape.parse(response.text)


@pytest.mark.slow
def test_a_rendered_job_shows_in_the_workers_metrics_and_its_request_id_in_its_logs(api_stack):
    metrics_port = free_port()
    worker = api_stack.start_worker(env={"VOXREGEN_WORKER_METRICS_PORT": str(metrics_port)})
    worker_metrics = f"http://127.0.0.1:{metrics_port}/metrics"
    idle = _scrape(worker_metrics)
    assert idle.value("voxregen_chunk_generation_seconds_count") == 0
    assert idle.value("voxregen_queue_depth_up") == 1

    ada = api_stack.user()
    profile_id = ada.ready_profile()
    upload = ada.uploaded_input(singing_wav(stem_s_for(CHUNKS)))
    created = ada.http.post(
        "/v1/render-jobs",
        json={"singer_profile_id": profile_id, "input_object_key": upload["object_key"]},
        headers={"X-Request-Id": REQUEST_ID},
    )
    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"] == REQUEST_ID
    job_id = created.json()["id"]
    done = ada.finished(job_id)[-1]
    assert done["status"] == "done", f"{done}\n{api_stack.logs()}"
    assert done["progress"]["chunks_total"] == CHUNKS

    scraped = _scrape(worker_metrics)
    assert scraped.value("voxregen_chunk_generation_seconds_count") == CHUNKS
    assert scraped.value("voxregen_chunk_generation_seconds_sum") > 0
    staged = {labels["stage"] for labels in scraped.labelled("voxregen_render_stage_seconds_count")}
    assert staged == STAGES
    assert all(
        scraped.value("voxregen_render_stage_seconds_count", stage=stage) == 1 for stage in STAGES
    )
    assert scraped.value("voxregen_render_stage_seconds_sum", stage="features") > 0
    queued = wait_for(
        lambda: _scrape(worker_metrics).value("voxregen_queue_depth", state="queued"),
        until=lambda depth: depth == 0,
        what="the queue to drain",
    )
    assert queued == 0

    of_job = [line for line in worker.events() if line.get("job_id") == job_id]
    events = [line["event"] for line in of_job]
    assert events.count("render_chunk") == CHUNKS, events
    assert {"render_job_started", "render_job_fanned_out", "render_job_done"} <= set(events)
    assert {line.get("request_id") for line in of_job} == {REQUEST_ID}, of_job
    requests = api_stack.processes[0].events("request")
    (create_line,) = [line for line in requests if line["request_id"] == REQUEST_ID]
    assert (create_line["method"], create_line["path"], create_line["status"]) == (
        "POST",
        "/v1/render-jobs",
        201,
    )

    api = _scrape(f"{api_stack.base_url}/metrics")
    create = {"method": "POST", "route": "/v1/render-jobs", "status": "201"}
    assert api.value("voxregen_http_requests_total", **create) == 1
    polls = api.value(
        "voxregen_http_requests_total", method="GET", route="/v1/render-jobs/{job_id}", status="200"
    )
    assert polls >= 1
    assert api.value("voxregen_render_jobs", status="done") == 1
    assert api.value("voxregen_render_jobs_up") == 1
