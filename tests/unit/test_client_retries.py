"""The client's HTTP policy over httpx.MockTransport (a scripted service; the real one is in
tests/e2e/test_client.py): which answers are retried and after how long, the Idempotency-Key of
a POST's attempts, typed errors, credentials, and streamed transfers."""

import email.utils
import http.server
import json
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from voxregen_client import (
    Client,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServiceUnavailableError,
    ServiceUnreachableError,
    UnauthenticatedError,
    UnexpectedResponseError,
    VoxregenApiError,
)
from voxregen_client.errors import ConfigurationError

BASE_URL = "http://voxregen.test"
JOB = {
    "id": "6b2e4d8f-1a3c-4e5b-9d7f-0a1b2c3d4e5f",
    "status": "queued",
    "singer_profile_id": "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "input_object_key": "users/u/jobs/j/input.wav",
    "output_object_key": None,
    "params": {"style": "natural"},
    "progress": {"chunks_done": 0, "chunks_total": 0},
    "metrics": {},
    "error": None,
    "input_hash": None,
    "stem_feature_cache_id": None,
    "webhook": None,
    "input_expired_at": None,
    "output_expired_at": None,
    "created_at": "2026-12-02T07:00:00+00:00",
    "updated_at": "2026-12-02T07:00:00+00:00",
    "a_field_added_later": True,
}


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"code": code, "message": f"the {code} message"}}
    return httpx.Response(status, json=body, headers=headers)


class Scripted:
    """A transport answering each request with the next of ``answers`` (a response, an
    exception to raise, or a function of the request); it records the requests."""

    def __init__(
        self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
    ):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _client(script: Scripted, sleeps: list[float], *, max_attempts: int = 4, **options) -> Client:
    policy = RetryPolicy(
        max_attempts=max_attempts, backoff_base_s=0.5, jitter=0.0, sleep=sleeps.append
    )
    return Client(
        BASE_URL, api_key="vxr_test", retry=policy, transport=httpx.MockTransport(script), **options
    )


def test_a_429_is_retried_after_its_retry_after_with_the_same_idempotency_key(sleeps):
    script = Scripted(
        _error(429, "rate_limited", {"Retry-After": "3"}), httpx.Response(201, json=JOB)
    )
    job = _client(script, sleeps).jobs.clone(JOB["id"], params={"style": "warm"})
    assert job.id == JOB["id"] and job.status == "queued"
    assert sleeps == [3.0]
    keys = [request.headers["Idempotency-Key"] for request in script.requests]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert script.bodies[0] == script.bodies[1]
    assert json.loads(script.bodies[0]) == {"params": {"style": "warm"}}


def test_a_503_is_retried_with_exponential_backoff_then_raised(sleeps):
    script = Scripted(*[_error(503, "database_unavailable")] * 4)
    with pytest.raises(ServiceUnavailableError, match="database_unavailable") as raised:
        _client(script, sleeps).jobs.get(JOB["id"])
    assert (raised.value.status, raised.value.code) == (503, "database_unavailable")
    assert raised.value.message == "the database_unavailable message"
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(script.requests) == 4


def test_backoff_is_capped_and_jittered_within_its_bounds():
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=5.0, jitter=0.2)
    for attempt, nominal_s in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)]:
        waits = [policy.backoff_s(attempt) for _ in range(200)]
        assert all(0.8 * nominal_s <= wait <= 1.2 * nominal_s for wait in waits)
        assert max(waits) - min(waits) > 0.1 * nominal_s  # jittered, not fixed


def test_a_retry_after_date_is_honoured(sleeps):
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    script = Scripted(
        _error(429, "rate_limited", {"Retry-After": when}), httpx.Response(200, json=JOB)
    )
    _client(script, sleeps).jobs.get(JOB["id"])
    assert len(sleeps) == 1 and 28.0 <= sleeps[0] <= 30.0


def test_a_429_still_answered_on_the_last_attempt_is_raised_with_its_retry_after(sleeps):
    script = Scripted(*[_error(429, "rate_limited", {"Retry-After": "7"})] * 2)
    with pytest.raises(RateLimitedError) as raised:
        _client(script, sleeps, max_attempts=2).profiles.page()
    assert raised.value.retry_after_s == 7.0
    assert sleeps == [7.0]


def test_connection_errors_are_retried_and_the_post_keeps_its_key(sleeps):
    script = Scripted(
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("no answer"),
        httpx.Response(200, json=JOB | {"status": "canceled"}),
    )
    assert _client(script, sleeps).jobs.cancel(JOB["id"]).status == "canceled"
    assert sleeps == [0.5, 1.0]
    assert len({request.headers["Idempotency-Key"] for request in script.requests}) == 1


def test_a_service_unreachable_on_every_attempt_is_a_typed_error(sleeps):
    script = Scripted(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(ServiceUnreachableError, match="failed 3 time"):
        _client(script, sleeps, max_attempts=3).jobs.get(JOB["id"])
    assert len(script.requests) == 3


def test_every_post_has_a_key_of_its_own_and_no_other_method_has_one(sleeps):
    script = Scripted(
        httpx.Response(200, json=JOB | {"status": "canceled"}),
        httpx.Response(200, json=JOB | {"status": "canceled"}),
        httpx.Response(200, json=JOB),
        httpx.Response(204),
    )
    client = _client(script, sleeps)
    client.jobs.cancel(JOB["id"])
    client.jobs.cancel(JOB["id"])
    client.jobs.get(JOB["id"])
    assert client.jobs.delete(JOB["id"]) is None
    posts = [request.headers["Idempotency-Key"] for request in script.requests[:2]]
    assert posts[0] != posts[1]
    assert all("Idempotency-Key" not in request.headers for request in script.requests[2:])
    assert [request.method for request in script.requests] == ["POST", "POST", "GET", "DELETE"]


def test_a_replayed_429_is_retried_under_a_fresh_key(sleeps):
    """The key's one run was refused and stored: the same key would only replay the refusal
    (without a Retry-After), so the retry takes another."""
    replayed = _error(429, "too_many_active_jobs", {"Idempotent-Replayed": "true"})
    script = Scripted(
        _error(429, "too_many_active_jobs", {"Retry-After": "2"}),
        replayed,
        httpx.Response(201, json=JOB),
    )
    _client(script, sleeps).jobs.clone(JOB["id"])
    keys = [request.headers["Idempotency-Key"] for request in script.requests]
    assert keys[0] == keys[1] != keys[2]
    assert sleeps == [2.0, 1.0]  # the replay has no Retry-After: the backoff's second step


def test_only_the_in_use_conflict_is_retried(sleeps):
    script = Scripted(_error(409, "idempotency_key_in_use"), httpx.Response(201, json=JOB))
    assert _client(script, sleeps).jobs.clone(JOB["id"]).id == JOB["id"]
    script = Scripted(_error(409, "not_ready"))
    with pytest.raises(ConflictError, match="not_ready"):
        _client(script, sleeps).jobs.clone(JOB["id"])
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (401, "invalid_api_key", UnauthenticatedError),
        (404, "not_found", NotFoundError),
        (500, "internal_error", VoxregenApiError),
    ],
)
def test_other_errors_are_typed_and_not_retried(sleeps, status, code, error_class):
    script = Scripted(_error(status, code))
    with pytest.raises(error_class) as raised:
        _client(script, sleeps).jobs.get(JOB["id"])
    assert (raised.value.status, raised.value.code) == (status, code)
    assert len(script.requests) == 1 and sleeps == []


def test_an_error_body_not_in_the_api_shape_keeps_its_status_and_text(sleeps):
    script = Scripted(httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(VoxregenApiError, match="502 http_502") as raised:
        _client(script, sleeps).jobs.get(JOB["id"])
    assert raised.value.message == "<html>Bad Gateway</html>"


def test_a_success_that_is_not_json_says_the_base_url_is_wrong(sleeps):
    script = Scripted(httpx.Response(200, text="<html>It works!</html>"))
    with pytest.raises(UnexpectedResponseError, match="HTTP 200, not JSON: is the base URL"):
        _client(script, sleeps).jobs.get(JOB["id"])


def test_credentials_go_to_the_api_and_never_to_a_presigned_url(tmp_path, sleeps):
    stem = tmp_path / "stem.wav"
    stem.write_bytes(b"RIFF")
    upload = {
        "job_id": "j",
        "object_key": "users/u/jobs/j/input.wav",
        "upload_url": "https://s3.test/bucket/key?X-Amz-Signature=s",
        "expires_at": "2026-12-02T08:00:00+00:00",
    }
    script = Scripted(
        httpx.Response(200, json=upload), httpx.Response(200), httpx.Response(201, json=JOB)
    )
    _client(script, sleeps).jobs.create(stem, JOB["singer_profile_id"], params={"quality": "draft"})
    prepare, put, create = script.requests
    assert prepare.headers["Authorization"] == create.headers["Authorization"] == "Bearer vxr_test"
    assert put.url == upload["upload_url"] and "Authorization" not in put.headers
    assert "X-User-Id" not in put.headers and "Idempotency-Key" not in put.headers
    assert json.loads(script.bodies[2]) == {
        "singer_profile_id": JOB["singer_profile_id"],
        "input_object_key": upload["object_key"],
        "params": {"quality": "draft"},
    }


def test_development_mode_names_the_user_and_the_settings_are_checked(sleeps):
    script = Scripted(httpx.Response(200, json=JOB))
    user_id = "5f0c6a1e-2b7d-4c39-9a8e-0d3b1c2e4f50"
    client = Client(BASE_URL, user_id=user_id, transport=httpx.MockTransport(script))
    client.jobs.get(JOB["id"])
    assert script.requests[0].headers["X-User-Id"] == user_id
    assert "Authorization" not in script.requests[0].headers
    with pytest.raises(ConfigurationError, match="not both"):
        Client(BASE_URL, api_key="vxr_x", user_id=user_id)
    with pytest.raises(ConfigurationError, match="must be a UUID"):
        Client(BASE_URL, user_id="ada")
    with pytest.raises(ConfigurationError, match="VOXREGEN_URL is not set"):
        Client.from_env({"VOXREGEN_API_KEY": "vxr_x"})
    from_env = Client.from_env(
        {"VOXREGEN_URL": BASE_URL, "VOXREGEN_USER_ID": user_id},
        transport=httpx.MockTransport(script),
    )
    script.answers.append(httpx.Response(200, json=JOB))
    from_env.jobs.get(JOB["id"])
    assert script.requests[1].headers["X-User-Id"] == user_id
    assert str(script.requests[1].url).startswith(BASE_URL)


def test_an_upload_streams_with_its_length_reports_progress_and_is_resent_whole(tmp_path, sleeps):
    stem = tmp_path / "stem.wav"
    stem.write_bytes(bytes(range(256)) * 10_000)  # 2.56 MB: three blocks
    size = stem.stat().st_size
    upload = {
        "job_id": "j",
        "object_key": "k",
        "upload_url": "http://voxregen.test/storage/k?signature=s",
        "expires_at": "2026-12-02T08:00:00+00:00",
    }
    script = Scripted(
        httpx.Response(200, json=upload),
        _error(503, "storage_unavailable"),
        httpx.Response(204),
        httpx.Response(201, json=JOB),
    )
    progress: list[tuple[int, int]] = []
    _client(script, sleeps).jobs.create(
        stem, "p", on_upload_progress=lambda sent, total: progress.append((sent, total))
    )
    first_put, second_put = script.requests[1:3]
    for put, body in zip((first_put, second_put), script.bodies[1:3], strict=True):
        assert put.headers["Content-Length"] == str(size) and "Transfer-Encoding" not in put.headers
        assert body == stem.read_bytes()
    assert [sent for sent, _ in progress] == [1 << 20, 2 << 20, size] * 2
    assert {total for _, total in progress} == {size}


class _CutStream(httpx.SyncByteStream):
    """A body that breaks off after its first part."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset")


def test_a_download_never_overwrites_and_a_cut_one_is_fetched_again(tmp_path, sleeps):
    grant = {
        "download_url": "http://voxregen.test/storage/out?signature=s",
        "expires_at": "2026-12-02T08:00:00+00:00",
    }
    output = b"RIFF" + bytes(3_000_000)
    target = tmp_path / "out.wav"
    target.write_bytes(b"mine")
    client = _client(Scripted(), sleeps)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        client.jobs.download(JOB["id"], target)
    assert target.read_bytes() == b"mine"

    script = Scripted(
        httpx.Response(200, json=grant),
        httpx.Response(
            200, stream=_CutStream(output[:1000]), headers={"Content-Length": str(len(output))}
        ),
        httpx.Response(200, content=output),
    )
    progress: list[int] = []
    client = _client(script, sleeps)
    client.jobs.download(
        JOB["id"], target, overwrite=True, on_download_progress=lambda got, _: progress.append(got)
    )
    assert target.read_bytes() == output
    assert progress == [1 << 20, 2 << 20, len(output)]  # the second attempt, whole
    assert sleeps == [0.5]
    assert [path.name for path in tmp_path.iterdir()] == ["out.wav"]  # no part file left


class _Receiver(http.server.BaseHTTPRequestHandler):
    """A service on a socket (MockTransport reads a body whole before its handler sees it):
    prepare-upload and create answer JSON; a PUT's body is read as it comes and counted."""

    received: list[int] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        port = self.server.server_address[1]
        if self.path.endswith(":prepare-upload"):
            self._json(200, {"object_key": "k", "upload_url": f"http://127.0.0.1:{port}/storage/k"})
        else:
            self._json(201, JOB)

    def do_PUT(self) -> None:
        remaining = int(self.headers["Content-Length"])
        while remaining:
            remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
        self.received.append(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def test_an_upload_holds_a_block_in_memory_not_the_file(tmp_path):
    """An 8-minute 96 kHz 24-bit stereo stem is 276 MB; a 64 MB one here: the client's peak of
    Python allocations while it uploads stays a few 1 MiB blocks."""
    stem = tmp_path / "long.wav"
    with stem.open("wb") as file:
        file.truncate(64 << 20)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = Client(f"http://127.0.0.1:{server.server_address[1]}", api_key="vxr_test")
    tracemalloc.start()
    try:
        client.jobs.create(stem, "p")
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        client.close()
        server.shutdown()
        server.server_close()
    assert _Receiver.received == [64 << 20]
    assert peak_bytes < 8 << 20, peak_bytes
