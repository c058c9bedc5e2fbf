"""Idempotency-Key over HTTP, keys in the real PostgreSQL: a POST retried with its key is
answered the first answer again (``Idempotent-Replayed: true``) and creates nothing; the same
key with another body or route is a 422, while its first request is in flight a 409; keys are
per user; a 5xx releases the key so the retry runs; the sweeper expires keys after 24 h."""

import uuid
from datetime import timedelta

import attrs
import pytest

from tests.integration.http_api import as_user, new_job_body, running_api
from tests.integration.http_world import assert_error
from tests.signals import sine, wav_bytes
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_core.errors import DatabaseUnavailableError, QueueUnavailableError
from voxregen_core.idempotency import IN_FLIGHT_TIMEOUT_S, RETENTION_S, Claimed, fingerprint
from voxregen_core.retention import RetentionPolicy
from voxregen_http.routes import profiles as profiles_routes
from voxregen_worker.sweeper import Sweeper

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
STEM = wav_bytes(sine(220.0, peak_dbfs=-6.0, duration_s=1.0), subtype="PCM_16")


@attrs.define
class SwitchableQueue:
    """The real queue, or, while ``down``, one that cannot be reached."""

    inner: DramatiqJobQueue
    down: bool = False
    renders_queued: int = 0

    def __getattr__(self, name: str):
        if self.down and name.startswith("enqueue_"):
            raise QueueUnavailableError("cannot reach the queue: connection refused")
        return getattr(self.inner, name)

    def enqueue_render_job(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        if self.down:
            raise QueueUnavailableError("cannot reach the queue: connection refused")
        self.renders_queued += 1
        self.inner.enqueue_render_job(user_id=user_id, job_id=job_id)


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    namespace = f"voxregen-test-{uuid.uuid4().hex}"
    queue = SwitchableQueue(DramatiqJobQueue(make_broker(redis_url, namespace=namespace)))
    with running_api(fresh_database_url, redis_url, tmp_path, queue=queue) as api:
        yield api, queue


def keyed(user_id: uuid.UUID, key: str) -> dict[str, str]:
    return as_user(user_id) | {"Idempotency-Key": key}


def job_ids(api, user_id=ALICE) -> list[str]:
    page = api.client.get("/v1/render-jobs", headers=as_user(user_id)).json()
    return [item["id"] for item in page["items"]]


def test_a_retried_create_and_clone_answer_the_first_answer_and_create_nothing(api):
    api, queue = api
    body = new_job_body(api, ALICE, STEM)
    first = api.client.post("/v1/render-jobs", json=body, headers=keyed(ALICE, "create-1"))
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = api.client.post("/v1/render-jobs", json=body, headers=keyed(ALICE, "create-1"))
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/json"
    job_id = first.json()["id"]

    clone = f"/v1/render-jobs/{job_id}:clone"
    params = {"params": {"style": "warm"}}
    clones = [
        api.client.post(clone, json=params, headers=keyed(ALICE, "clone-1")) for _ in range(3)
    ]
    assert [response.status_code for response in clones] == [201, 201, 201]
    assert len({response.json()["id"] for response in clones}) == 1
    assert sorted(job_ids(api)) == sorted([job_id, clones[0].json()["id"]])
    assert queue.renders_queued == 2  # one per job created, none for the replays


def test_a_key_reused_for_another_body_or_route_is_a_422_and_runs_nothing(api):
    api, _ = api
    body = new_job_body(api, ALICE, STEM)
    created = api.client.post("/v1/render-jobs", json=body, headers=keyed(ALICE, "k"))
    job_id = created.json()["id"]

    other_body = api.client.post(
        f"/v1/render-jobs/{job_id}:clone",
        json={"params": {"intensity": 0.2}},
        headers=keyed(ALICE, "c"),
    )
    assert other_body.status_code == 201
    reused = api.client.post(
        f"/v1/render-jobs/{job_id}:clone",
        json={"params": {"intensity": 0.3}},
        headers=keyed(ALICE, "c"),
    )
    assert_error(reused, 422, {"idempotency_key_reused"})
    other_route = api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=keyed(ALICE, "k"))
    assert_error(other_route, 422, {"idempotency_key_reused"})
    assert len(job_ids(api)) == 2
    assert (
        api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).json()["status"]
        == "queued"
    )


def test_keys_belong_to_their_user(api):
    api, _ = api
    alices = api.client.post("/v1/singer-profiles", json={"name": "A"}, headers=keyed(ALICE, "p"))
    bobs = api.client.post("/v1/singer-profiles", json={"name": "A"}, headers=keyed(BOB, "p"))
    assert alices.status_code == bobs.status_code == 201
    assert "idempotent-replayed" not in bobs.headers
    assert alices.json()["id"] != bobs.json()["id"]


def test_a_request_in_flight_holds_its_key_until_it_is_answered_or_abandoned(api):
    api, _ = api
    path = "/v1/singer-profiles"
    raw = b'{"name": "Alto"}'
    claim = {
        "user_id": ALICE,
        "key": "in-flight",
        "fingerprint": fingerprint("POST", path, raw),
    }
    now = api.service.clock.now()
    assert api.service.idempotency_keys.claim(**claim, now=now) == Claimed()
    headers = keyed(ALICE, "in-flight") | {"Content-Type": "application/json"}

    busy = api.client.post(path, content=raw, headers=headers)
    assert_error(busy, 409, {"idempotency_key_in_use"})

    # a claim never answered for longer than any request takes: its process died
    stale = now - timedelta(seconds=IN_FLIGHT_TIMEOUT_S + 1)
    api.service.idempotency_keys.release(user_id=ALICE, key="in-flight")
    assert api.service.idempotency_keys.claim(**claim, now=stale) == Claimed()
    taken_over = api.client.post(path, content=raw, headers=headers)
    assert taken_over.status_code == 201 and "idempotent-replayed" not in taken_over.headers
    replayed = api.client.post(path, content=raw, headers=headers)
    assert replayed.json() == taken_over.json() and replayed.headers["idempotent-replayed"]


def test_a_refusal_is_replayed_but_a_5xx_releases_the_key(api):
    api, queue = api
    body = new_job_body(api, ALICE, STEM)
    missing = dict(body, input_object_key=body["input_object_key"].replace("-", "0", 1))
    refused = api.client.post("/v1/render-jobs", json=missing, headers=keyed(ALICE, "r"))
    again = api.client.post("/v1/render-jobs", json=missing, headers=keyed(ALICE, "r"))
    assert refused.status_code == again.status_code and refused.status_code in (404, 422)
    assert again.json() == refused.json() and again.headers["idempotent-replayed"] == "true"

    job_id = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE)).json()["id"]
    clone = f"/v1/render-jobs/{job_id}:clone"
    queue.down = True
    unavailable = api.client.post(clone, json={}, headers=keyed(ALICE, "retry-me"))
    assert_error(unavailable, 503, {"queue_unavailable"})
    queue.down = False
    retried = api.client.post(clone, json={}, headers=keyed(ALICE, "retry-me"))
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers


@pytest.mark.parametrize("key", ["", " padded", "x" * 256, "naïve"])
def test_a_malformed_key_is_a_400(api, key):
    api, _ = api
    response = api.client.post(
        "/v1/singer-profiles",
        json={"name": "A"},
        headers={"X-User-Id": str(ALICE), "Idempotency-Key": key.encode()},
    )
    assert_error(response, 400, {"invalid_idempotency_key"})
    listed = api.client.get("/v1/singer-profiles", headers=as_user(ALICE)).json()
    assert listed["items"] == []


def test_the_sweeper_expires_keys_after_their_retention(api):
    api, _ = api
    service = api.service
    now = service.clock.now()
    old = now - timedelta(seconds=RETENTION_S + 60)
    for key, at in (("old", old), ("new", now)):
        claim = {"user_id": ALICE, "key": key, "fingerprint": "f"}
        assert service.idempotency_keys.claim(**claim, now=at) == Claimed()
    sweeper = Sweeper(
        service,
        stall_timeout_s=60,
        job_deadline_s=3600,
        feature_cache_max_idle_s=3600,
        retention=RetentionPolicy(),
    )

    assert sweeper.sweep().idempotency_keys_expired == 1
    old_again = service.idempotency_keys.claim(user_id=ALICE, key="old", fingerprint="g", now=now)
    assert old_again == Claimed()  # free again: the old claim is gone
    with pytest.raises(Exception, match="another request"):
        service.idempotency_keys.claim(user_id=ALICE, key="new", fingerprint="g", now=now)


@attrs.define
class AnswersNotStored:
    """The idempotency keys' table, unreachable just when an answer is to be stored."""

    inner: object

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def answer(self, **_: object) -> None:
        raise DatabaseUnavailableError("cannot use the database: connection refused")


def test_an_answer_that_cannot_be_stored_still_answers_and_holds_the_key(api):
    """The handler's work is done: the client gets its answer, and the key stays claimed so
    that a retry does not do it again (until the claim is taken over as abandoned)."""
    api, _ = api
    app = api.client.app
    service = app.state.service
    app.state.service = attrs.evolve(
        service, idempotency_keys=AnswersNotStored(service.idempotency_keys)
    )
    try:
        created = api.client.post(
            "/v1/singer-profiles", json={"name": "A"}, headers=keyed(ALICE, "lost")
        )
    finally:
        app.state.service = service
    assert created.status_code == 201
    retry = api.client.post("/v1/singer-profiles", json={"name": "A"}, headers=keyed(ALICE, "lost"))
    assert_error(retry, 409, {"idempotency_key_in_use"})
    assert len(api.client.get("/v1/singer-profiles", headers=as_user(ALICE)).json()["items"]) == 1


def test_a_handler_that_fails_with_a_bug_releases_the_key(api, monkeypatch):
    api, _ = api

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(profiles_routes.profiles, "create_profile", broken)
    with pytest.raises(RuntimeError, match="a bug"):  # (the TestClient re-raises; a 500)
        api.client.post("/v1/singer-profiles", json={"name": "A"}, headers=keyed(ALICE, "b"))
    monkeypatch.undo()
    retried = api.client.post("/v1/singer-profiles", json={"name": "A"}, headers=keyed(ALICE, "b"))
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
