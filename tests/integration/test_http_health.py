"""Health, readiness, the served OpenAPI document, and the access log's one line per request."""

import json
import uuid

import structlog
import yaml

from tests.integration.http_api import TestClient, as_user, running_api
from tests.integration.migrated_database import migrated_engine
from tests.integration.moto_server import unreachable_s3_store
from voxregen.composition.service_parts import build_app, build_service
from voxregen_adapters.log_config import configure_logging
from voxregen_adapters.settings import load_settings
from voxregen_http.app import create_app
from voxregen_http.routes.openapi import DOCUMENT as OPENAPI

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")


def test_healthz_and_readyz_answer_ok_with_every_service_up(
    fresh_database_url, redis_url, tmp_path
):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        assert api.client.get("/healthz").json() == {"status": "ok"}
        ready = api.client.get("/readyz")
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ready", "checks": {"database": "ok", "redis": "ok", "storage": "ok"}},
        )


def test_readyz_is_a_503_naming_what_cannot_be_reached(tmp_path):
    settings = load_settings(
        {
            "VOXREGEN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/voxregen",
            "VOXREGEN_REDIS_URL": "unix:///nonexistent/voxregen-test/redis.sock",
            "VOXREGEN_STORAGE_URL": "s3://key:secret@127.0.0.1:1/voxregen?secure=false",
        }
    )
    store = unreachable_s3_store()
    with TestClient(create_app(build_service(settings, store=store))) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        503,
        {
            "status": "unavailable",
            "checks": {"database": "unavailable", "redis": "unavailable", "storage": "unavailable"},
        },
    )


class _Broken:
    """A health check whose probe has a bug: it must still be reported, not crash /readyz."""

    name = "storage"

    def check(self) -> None:
        raise KeyError("probe bug")


def test_readyz_reports_each_health_check_and_logs_why_one_failed():
    settings = load_settings(
        {
            "VOXREGEN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/voxregen",
            "VOXREGEN_REDIS_URL": "unix:///nonexistent/voxregen-test/redis.sock",
            "VOXREGEN_STORAGE_URL": "s3://key:secret@127.0.0.1:1/voxregen?secure=false",
        }
    )
    service = build_service(settings, health_checks=(_Broken(),))
    with TestClient(create_app(service)) as client, structlog.testing.capture_logs() as logs:
        ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "unavailable", "checks": {"storage": "unavailable"}},
    )
    [line] = [entry for entry in logs if entry["event"] == "not_ready"]
    assert (line["dependency"], line["error"]) == ("storage", "KeyError: 'probe bug'")


def test_the_openapi_document_is_served_as_written(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        response = api.client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/yaml"
    assert response.content == OPENAPI.read_bytes()
    assert yaml.safe_load(response.content)["openapi"] == "3.1.0"


def test_every_route_of_the_app_is_in_the_document(fresh_database_url, redis_url, tmp_path):
    documented = {
        (path, method.upper())
        for path, item in yaml.safe_load(OPENAPI.read_text())["paths"].items()
        for method in item
        if method != "parameters"
    }
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        served = {
            (route.path_format, method)
            for route in api.client.app.routes
            for method in route.methods - {"HEAD"}
        }
    assert served == documented


def test_each_request_leaves_one_summary_line(fresh_database_url, redis_url, tmp_path):
    with (
        running_api(fresh_database_url, redis_url, tmp_path) as api,
        structlog.testing.capture_logs() as logs,
    ):
        created = api.client.post(
            "/v1/singer-profiles", json={"name": "Alto"}, headers=as_user(ALICE)
        )
        api.client.get("/v1/render-jobs/not-a-uuid")
    assert created.status_code == 201
    requests = [entry for entry in logs if entry["event"] == "request"]
    assert [
        (entry["user_id"], entry["method"], entry["path"], entry["status"]) for entry in requests
    ] == [
        (str(ALICE), "POST", "/v1/singer-profiles", 201),
        (None, "GET", "/v1/render-jobs/not-a-uuid", 404),
    ]
    assert all(
        isinstance(entry["elapsed_ms"], float) and entry["elapsed_ms"] >= 0 for entry in requests
    )


def test_the_summary_line_is_json_on_stderr(fresh_database_url, redis_url, tmp_path, capsys):
    previous = structlog.get_config()
    configure_logging()  # as the API process does, writing to this test's captured stderr
    try:
        with running_api(fresh_database_url, redis_url, tmp_path) as api:
            api.client.get("/v1/singer-profiles", headers=as_user(ALICE))
    finally:
        structlog.configure(**previous)
    [line] = [line for line in capsys.readouterr().err.splitlines() if '"event": "request"' in line]
    entry = json.loads(line)
    assert {key: entry[key] for key in ("user_id", "method", "path", "status", "level")} == {
        "user_id": str(ALICE),
        "method": "GET",
        "path": "/v1/singer-profiles",
        "status": 200,
        "level": "info",
    }
    assert entry["timestamp"].endswith("Z")


def test_the_composition_root_builds_the_app_from_the_environment(
    fresh_database_url, redis_url, tmp_path, monkeypatch
):
    migrated_engine(fresh_database_url).dispose()
    for name, value in {
        "VOXREGEN_DATABASE_URL": fresh_database_url,
        "VOXREGEN_REDIS_URL": redis_url,
        "VOXREGEN_STORAGE_URL": tmp_path.as_uri(),
        "VOXREGEN_SIGNING_KEY": "factory-test-signing-key-0123456789abcdef",
        "VOXREGEN_AUTH_MODE": "dev_header",
    }.items():
        monkeypatch.setenv(name, value)
    with TestClient(build_app(load_settings())) as client:
        ready = client.get("/readyz").json()
        created = client.post("/v1/singer-profiles", json={"name": "Alto"}, headers=as_user(ALICE))
    assert ready["status"] == "ready"
    assert created.status_code == 201
