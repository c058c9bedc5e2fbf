"""Webhooks, with the real API and worker processes and a receiver on loopback (the stack allows
private networks; retries are shortened to 0.3, 0.6 and 1.2 s, the timeout to 1 s): every
delivery verifies with the ``standardwebhooks`` library against the secret the API gives; the
events come in order, ``progress`` at most once a second; a failing receiver is retried with
the same ``webhook-id`` until it answers, a 410 is not retried, and a receiver that hangs,
redirects, answers 5 MB or is down for a while costs attempts, never a worker."""

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
import standardwebhooks

from tests.e2e.stack import Stack, free_port, s3_storage_url, singing_wav, stem_s_for, wait_for

WEBHOOK_ENV = {
    "VOXREGEN_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
    "VOXREGEN_WEBHOOK_RETRY_SCHEDULE_S": "0.3,0.6,1.2",
    "VOXREGEN_WEBHOOK_TIMEOUT_S": "1",
}


@attrs.define
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@attrs.define
class Receiver:
    """An HTTP server on loopback recording every POST; ``answer(delivery)`` says what to do
    with each: a status code, or a callable that writes the answer itself."""

    answer: Callable[["Receiver", Delivery], Any] = lambda receiver, delivery: 200
    deliveries: list[Delivery] = attrs.field(factory=list)
    port: int = attrs.field(factory=free_port)
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                delivery = Delivery(
                    self.path, dict(self.headers.items()), self.rfile.read(length), time.monotonic()
                )
                receiver.deliveries.append(delivery)
                outcome = receiver.answer(receiver, delivery)
                if callable(outcome):
                    outcome(self)
                    return
                self.send_response(outcome)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every delivery's payload, each verified by the reference library."""
        webhook = standardwebhooks.Webhook(secret)
        return [webhook.verify(delivery.body, delivery.headers) for delivery in self.deliveries]


@pytest.fixture
def webhook_stack(fresh_database_url, claimed_redis, s3_endpoint, tmp_path) -> Iterator[Stack]:
    with Stack(
        database_url=fresh_database_url,
        redis_url=claimed_redis,
        storage_url=s3_storage_url(s3_endpoint),
        work_dir=tmp_path,
        env=WEBHOOK_ENV,
    ) as stack:
        stack.start_api()
        stack.start_worker(env={"VOXREGEN_STUB_SECONDS_PER_CHUNK": "0.7"})
        yield stack


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def submit(stack: Stack, url: str, events: list[str] | None, chunks: int = 1) -> tuple[Any, str]:
    ada = stack.user()
    profile_id = ada.ready_profile()
    upload = ada.uploaded_input(singing_wav(stem_s_for(chunks), seed=chunks))
    body = {"singer_profile_id": profile_id, "input_object_key": upload["object_key"]}
    body |= {"webhook_url": url} | ({} if events is None else {"webhook_events": events})
    created = ada.post("/v1/render-jobs", body)
    assert created.status_code == 201, created.text
    return ada, created.json()["id"]


def secret_of(user) -> str:
    response = user.get("/v1/webhooks/default/secret")
    assert response.status_code == 200, response.text
    return response.json()["key"]


@pytest.mark.slow
def test_started_progress_and_completed_arrive_signed_in_order(webhook_stack, receiver):
    receiver.start()
    ada, job_id = submit(webhook_stack, receiver.url, ["started", "progress", "completed"], 4)
    ada.finished(job_id)
    wait_for(
        lambda: [d for d in receiver.deliveries if b"render_job.completed" in d.body],
        what="the completed webhook",
        context=webhook_stack.logs,
    )

    payloads = receiver.verified(secret_of(ada))
    types = [payload["type"] for payload in payloads]
    assert types[0] == "render_job.started" and types[-1] == "render_job.completed", types
    progress = [d for d in receiver.deliveries if b"render_job.progress" in d.body]
    assert 1 <= len(progress) < 4, types  # 4 chunks of 0.7 s: at most one notice a second
    gaps = [later.at - earlier.at for earlier, later in zip(progress, progress[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert all(payload["data"]["id"] == job_id for payload in payloads)
    assert payloads[-1]["data"]["status"] == "done"
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == len(payloads)
    job = ada.job(job_id)
    last = job["webhook"]["last_attempt"]
    assert (job["webhook"]["url"], last["status_code"], last["error"]) == (receiver.url, 200, None)
    other = webhook_stack.user()
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        receiver.verified(secret_of(other))  # each user signs with their own secret


@pytest.mark.slow
def test_a_failing_receiver_is_retried_with_the_same_id_and_a_410_stops(webhook_stack, receiver):
    answers = iter([500, 503, 200])
    receiver.answer = lambda receiver, delivery: next(answers)
    receiver.start()
    ada, job_id = submit(webhook_stack, receiver.url, None)
    wait_for(lambda: len(receiver.deliveries) == 3, what="3 attempts", context=webhook_stack.logs)

    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 1
    gaps = [b.at - a.at for a, b in zip(receiver.deliveries, receiver.deliveries[1:], strict=False)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.5, gaps  # 0.3 s then 0.6 s, ±10 %
    assert all(p["type"] == "render_job.completed" for p in receiver.verified(secret_of(ada)))
    last = wait_for(
        lambda: ada.job(job_id)["webhook"]["last_attempt"],
        until=lambda attempt: attempt and attempt["attempt"] == 3,
        what="the third attempt recorded",
    )
    assert last["status_code"] == 200

    gone = Receiver(answer=lambda receiver, delivery: 410)
    gone.start()
    try:
        ada, job_id = submit(webhook_stack, gone.url, None)
        wait_for(lambda: gone.deliveries, what="the first attempt", context=webhook_stack.logs)
        time.sleep(1.5)  # longer than the first two retries' waits
        assert len(gone.deliveries) == 1
        last = ada.job(job_id)["webhook"]["last_attempt"]
        assert (last["status_code"], last["error"]) == (410, "answered HTTP 410")
    finally:
        gone.stop()


def hang(handler) -> None:
    time.sleep(3)  # longer than the 1 s timeout


def redirect(handler) -> None:
    handler.send_response(302)
    handler.send_header("location", "/elsewhere")
    handler.send_header("content-length", "0")
    handler.end_headers()


def five_megabytes(handler) -> None:
    handler.send_response(200)
    handler.send_header("content-length", str(5 * 2**20))
    handler.end_headers()
    try:
        for _ in range(5 * 16):
            handler.wfile.write(b"x" * 65536)
    except OSError:
        pass  # the sender closed the connection after what it reads


@pytest.mark.slow
@pytest.mark.parametrize(
    ("behaviour", "status_code", "error"),
    [
        (hang, None, "no answer within 1 s"),
        (redirect, 302, "answered HTTP 302"),
        (five_megabytes, 200, None),
    ],
    ids=["hangs", "redirects", "answers_5_mb"],
)
def test_a_receiver_that_hangs_redirects_or_floods_costs_one_attempt(
    webhook_stack, receiver, behaviour, status_code, error
):
    receiver.answer = lambda receiver, delivery: behaviour
    receiver.start()
    ada, job_id = submit(webhook_stack, receiver.url, None)
    first = wait_for(
        lambda: ada.job(job_id)["webhook"]["last_attempt"],
        what="an attempt recorded",
        context=webhook_stack.logs,
    )
    assert (first["status_code"], first["error"]) == (status_code, error)
    assert first["duration_ms"] < 2500
    assert not [d for d in receiver.deliveries if d.path == "/elsewhere"]  # never followed
    next_job = ada.submit(ada.ready_profile(), singing_wav(stem_s_for(1), seed=9))
    assert ada.finished(next_job)[-1]["status"] == "done"  # the worker is not stuck


@pytest.mark.slow
def test_a_receiver_down_for_a_while_gets_the_delivery_once_it_is_up(webhook_stack, receiver):
    ada, job_id = submit(webhook_stack, receiver.url, None)  # nothing listens on its port yet
    wait_for(
        lambda: ada.job(job_id)["webhook"]["last_attempt"],
        until=lambda attempt: attempt and attempt["attempt"] >= 2,
        what="two refused attempts",
        context=webhook_stack.logs,
    )
    refused = ada.job(job_id)["webhook"]["last_attempt"]
    assert refused["status_code"] is None and refused["error"].startswith("cannot connect")
    receiver.start()
    wait_for(lambda: receiver.deliveries, what="the delivery", context=webhook_stack.logs)
    (payload,) = receiver.verified(secret_of(ada))
    assert (payload["type"], payload["data"]["status"]) == ("render_job.completed", "done")
    assert json.loads(receiver.deliveries[0].body)["data"]["id"] == job_id
