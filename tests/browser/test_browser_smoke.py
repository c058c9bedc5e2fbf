"""The browser-test fixtures themselves (:mod:`tests.browser.conftest`), on what the service
serves without the web app: Chromium reaches a real ``voxregen serve``, the page watch records
every kind of problem it claims to (so it can fail a test), a declared status is none, and
screenshots land where the docstring says."""

import json
import struct
import uuid

import pytest

from tests.integration.test_serve import _free_port


def test_a_page_reads_what_the_served_app_answers(page, served_app):
    response = page.goto(f"{served_app.base_url}/healthz")
    assert response is not None and response.status == 200
    assert json.loads(page.inner_text("body")) == {"status": "ok"}
    assert '"worker_started"' in served_app.log.read_text()


def test_the_watch_records_each_kind_of_problem_once_and_fails_the_test(
    page, page_watch, served_app
):
    page.goto(f"{served_app.base_url}/healthz")
    dead_url = f"http://127.0.0.1:{_free_port()}/gone"
    with page.expect_event("pageerror"):
        page.evaluate(
            """async (deadUrl) => {
                console.error("deliberate console error");
                console.warn("a warning is no problem");
                await fetch("/no-such-path");
                await fetch(deadUrl).catch(() => null);
                setTimeout(() => { throw new Error("deliberate uncaught exception"); }, 0);
            }""",
            dead_url,
        )
    with pytest.raises(pytest.fail.Exception, match=r"the page had 4 problem\(s\):\n  console"):
        page_watch.check()
    *problems, uncaught = page_watch.clear()  # and the test passes, the watch left empty
    assert problems == [
        "console error: deliberate console error",
        f"HTTP 404: GET {served_app.base_url}/no-such-path",
        f"request failed: GET {dead_url}: net::ERR_CONNECTION_REFUSED",
    ]
    assert uncaught.startswith("uncaught exception: Error: deliberate uncaught exception\n    at ")


def test_a_status_the_test_expects_is_no_problem(page, page_watch, served_app_with_keys):
    jobs_url = f"{served_app_with_keys.base_url}/v1/render-jobs"
    page_watch.expect_status(401)
    refused = page.goto(jobs_url)
    assert refused is not None and refused.status == 401
    assert json.loads(page.inner_text("body"))["error"]["code"] == "unauthenticated"

    key = served_app_with_keys.api_key(uuid.uuid4())
    page.set_extra_http_headers({"Authorization": f"Bearer {key}"})
    listed = page.goto(jobs_url)
    assert listed is not None and listed.status == 200
    assert json.loads(page.inner_text("body")) == {"items": [], "next_cursor": None}


def test_a_phone_screenshot_is_named_by_its_width_in_the_tmp_folder(
    phone_page, served_app, request, monkeypatch, tmp_path
):
    monkeypatch.delenv("VOXREGEN_SCREENSHOTS", raising=False)
    screenshot = request.getfixturevalue("screenshot")
    phone_page.goto(f"{served_app.base_url}/healthz")
    path = screenshot(phone_page, "healthz")
    assert path == tmp_path / "healthz-360.png"
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (360, 740)  # IHDR: width, height
    assert phone_page.evaluate("() => navigator.maxTouchPoints") > 0
