"""``X-Request-Id`` over the app on a real service (PostgreSQL, Redis): kept when valid,
replaced when missing or invalid, echoed on every answer (errors, a bug's 500 included),
carried by every log line the request writes (the real JSON lines on stderr) and by every
queue message it sends (read back from Redis, decoded as the worker decodes them)."""

import contextlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator

import attrs
import pytest
import structlog

from tests.integration.http_api import TestClient, as_user, new_job_body, running_api
from voxregen_adapters.log_config import configure_logging
from voxregen_core.messages import ProfileBuildMessage, RenderJobMessage
from voxregen_http.app import create_app

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
NEW_ID = re.compile("[0-9a-f]{32}")


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


@contextlib.contextmanager
def json_log_lines(capsys) -> Iterator[Callable[[], list[dict]]]:
    """A function returning the JSON log lines written in the block (on stderr, as the API
    process writes them: :func:`configure_logging`). Entered in the test itself, where
    ``capsys`` holds stderr (a fixture's setup sees another stream)."""
    previous = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging()
    capsys.readouterr()
    try:
        yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        structlog.configure(**previous)
        root.handlers[:] = handlers  # no handler left writing to the captured stream
        root.setLevel(level)


def test_a_valid_request_id_is_echoed_as_sent(api):
    for sent in ("4bf92f3577b34da6a3ce929d0e0e4736", "req.2024-05-01_17", "x" * 128):
        response = api.client.get("/healthz", headers={"X-Request-Id": sent})
        assert response.headers["x-request-id"] == sent


@pytest.mark.parametrize(
    "sent",
    ["", "x" * 129, "has space", "semi;colon", "naïve", "a\tb"],
    ids=["empty", "too_long", "space", "semicolon", "non_ascii", "tab"],
)
def test_an_invalid_request_id_is_replaced_not_refused(api, sent):
    response = api.client.get("/healthz", headers=[(b"x-request-id", sent.encode())])
    assert response.status_code == 200
    assert NEW_ID.fullmatch(response.headers["x-request-id"])


def test_a_missing_request_id_is_made_fresh_for_each_request(api):
    made = {api.client.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(made) == 5 and all(NEW_ID.fullmatch(made_id) for made_id in made)


def test_every_error_answer_carries_the_request_id(api):
    errors = {
        "unauthenticated": api.client.get(f"/v1/render-jobs/{uuid.uuid4()}", headers={}),
        "not found": api.client.get(f"/v1/render-jobs/{uuid.uuid4()}", headers=as_user(ALICE)),
        "no route": api.client.get("/no/such/path"),
        "bad method": api.client.put("/healthz"),
        "invalid body": api.client.post(
            "/v1/singer-profiles", json={"name": 7}, headers=as_user(ALICE)
        ),
        "malformed json": api.client.post(
            "/v1/singer-profiles",
            content=b"{",
            headers=as_user(ALICE) | {"Content-Type": "application/json"},
        ),
    }
    for name, response in errors.items():
        assert response.status_code >= 400, name
        assert NEW_ID.fullmatch(response.headers["x-request-id"]), name
    sent = api.client.get("/no/such/path", headers={"X-Request-Id": "trace-404"})
    assert sent.headers["x-request-id"] == "trace-404"


class _BuggyJobs:
    """A job repository with a bug: any read raises something no error table knows."""

    def get(self, **_: object) -> None:
        raise KeyError("a bug in the repository")


def test_a_500_from_a_bug_carries_the_request_id_and_so_does_its_log_line(api, capsys):
    buggy = attrs.evolve(api.service, jobs=_BuggyJobs(), closers=())
    with (
        json_log_lines(capsys) as json_lines,
        TestClient(create_app(buggy), raise_server_exceptions=False) as client,
    ):
        response = client.get(
            f"/v1/render-jobs/{uuid.uuid4()}",
            headers=as_user(ALICE) | {"X-Request-Id": "bug-report-1"},
        )
        by_event = {line["event"]: line for line in json_lines()}
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"] == "bug-report-1"
    assert by_event["unhandled_error"]["request_id"] == "bug-report-1"
    assert "KeyError: 'a bug in the repository'" in by_event["unhandled_error"]["exception"]
    assert (by_event["request"]["request_id"], by_event["request"]["status"]) == (
        "bug-report-1",
        500,
    )


def test_every_log_line_of_a_request_carries_its_request_id(api, capsys):
    with json_log_lines(capsys) as json_lines:
        api.client.get("/healthz", headers={"X-Request-Id": "first"})
        api.client.get("/readyz", headers={"X-Request-Id": "second"})
        api.client.get("/healthz")
        lines = [line for line in json_lines() if line["event"] == "request"]
    assert [(line["path"], line["request_id"]) for line in lines[:2]] == [
        ("/healthz", "first"),
        ("/readyz", "second"),
    ]
    assert NEW_ID.fullmatch(lines[2]["request_id"])


def test_the_queue_messages_a_request_sends_carry_its_request_id(api):
    body = new_job_body(api, ALICE, b"RIFF-stem")
    created = api.client.post(
        "/v1/render-jobs", json=body, headers=as_user(ALICE) | {"X-Request-Id": "create-1"}
    )
    assert created.status_code == 201, created.text
    cloned = api.client.post(
        f"/v1/render-jobs/{created.json()['id']}:clone",
        json={"params": {"style": "bright"}},
        headers=as_user(ALICE),
    )
    assert cloned.status_code == 201, cloned.text
    profile = api.client.post(
        "/v1/singer-profiles", json={"name": "Tenor"}, headers=as_user(ALICE)
    ).json()
    references = f"/v1/singer-profiles/{profile['id']}/references"
    upload = api.client.post(f"{references}:prepare-upload", headers=as_user(ALICE)).json()
    assert api.client.put(upload["upload_url"], content=b"RIFF-reference").status_code == 204
    committed = api.client.post(
        f"{references}:commit",
        json={"ref_id": upload["ref_id"], "object_key": upload["object_key"]},
        headers=as_user(ALICE) | {"X-Request-Id": "commit-1"},
    )
    assert committed.status_code == 202, committed.text
    queued = api.queued()  # the queue's messages, then the render backlog's units
    assert [(type(message), message.request_id) for message in queued] == [
        (ProfileBuildMessage, "commit-1"),
        (RenderJobMessage, "create-1"),
        (RenderJobMessage, cloned.headers["x-request-id"]),
    ]
