"""Render jobs over HTTP: reserve an id and upload the stem, create the job (a render_job lands
on the real Redis queue), poll it, download once done, download its input back in any status,
clone with new params; the colon verbs routed as such; every refusal with its status; another
user's job answered like a missing one.

The worker is not running here: where a test needs a built profile or a finished job it makes
the same repository calls the worker makes (tests/integration/http_api.py).
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.http_api import as_user, build_profile, finish_job, running_api
from tests.signals import sine, wav_bytes
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.input_hash import input_hash
from voxregen_core.jobs import JobStatus, Progress
from voxregen_core.keys import chunk_key, job_input_key, job_output_key, job_upload_key
from voxregen_core.messages import ProfileBuildMessage, RenderJobMessage
from voxregen_core.profiles import ProfileStatus
from voxregen_core.use_cases.render_jobs import cancel_job, fail_job
from voxregen_core.use_cases.uploads import DOWNLOAD_URL_EXPIRES_S

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
STEM = wav_bytes(sine(220.0, peak_dbfs=-6.0, duration_s=2.0), subtype="PCM_16")
OUTPUT = b"RIFF-rendered-output"
UNREACHABLE_REDIS_URL = "unix:///nonexistent/voxregen-test/redis.sock"


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


def ready_profile(api, user_id=ALICE) -> str:
    response = api.client.post(
        "/v1/singer-profiles", json={"name": "Alto"}, headers=as_user(user_id)
    )
    profile_id = response.json()["id"]
    build_profile(api.service, user_id, uuid.UUID(profile_id))
    return profile_id


def uploaded_input(api, user_id=ALICE, data=STEM) -> dict:
    response = api.client.post("/v1/render-jobs:prepare-upload", headers=as_user(user_id))
    assert response.status_code == 200, response.text
    prepared = response.json()
    assert api.client.put(prepared["upload_url"], content=data).status_code == 204
    return prepared


def create_job(api, user_id=ALICE, params=None) -> dict:
    profile_id = ready_profile(api, user_id)
    prepared = uploaded_input(api, user_id)
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    response = api.client.post(
        "/v1/render-jobs",
        json=body | ({} if params is None else {"params": params}),
        headers=as_user(user_id),
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_whole_flow_up_to_a_queued_job_then_done_download_and_clone(api):
    profile_id = ready_profile(api)
    prepared = uploaded_input(api)
    job_id = uuid.UUID(prepared["job_id"])
    assert prepared["object_key"] == job_input_key(ALICE, job_id)
    assert api.service.store.get(job_upload_key(ALICE, job_id)) == STEM  # where the URL writes
    assert not api.service.store.exists(prepared["object_key"])

    body = {
        "singer_profile_id": profile_id,
        "input_object_key": prepared["object_key"],
        "params": {"style": "warm", "intensity": 0.25},
    }
    response = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["id"] == prepared["job_id"]  # the reserved id
    assert api.service.store.get(prepared["object_key"]) == STEM  # the job took the upload
    assert not api.service.store.exists(job_upload_key(ALICE, job_id))
    assert (job["status"], job["progress"], job["metrics"], job["error"]) == (
        "queued",
        {"chunks_done": 0, "chunks_total": 0},
        {},
        None,
    )
    assert job["params"]["style"] == "warm" and job["params"]["intensity"] == 0.25
    assert job["params"]["output_format"] == "wav16"  # the brief's defaults filled in
    assert api.queued() == [
        RenderJobMessage(user_id=ALICE, job_id=job_id, request_id=response.headers["x-request-id"])
    ]

    path = f"/v1/render-jobs/{job_id}"
    assert api.client.get(path, headers=as_user(ALICE)).json() == job
    early = api.client.post(path + ":download", headers=as_user(ALICE))
    assert early.status_code == 409
    assert early.json()["error"] == {
        "code": "not_ready",
        "message": f"render job {job_id} is queued; its output can be downloaded once done",
    }

    finish_job(api.service, ALICE, job_id, OUTPUT)
    done = api.client.get(path, headers=as_user(ALICE)).json()
    assert (done["status"], done["output_object_key"]) == ("done", job_output_key(ALICE, job_id))
    download = api.client.post(path + ":download", headers=as_user(ALICE))
    assert download.status_code == 200
    assert set(download.json()) == {"download_url", "expires_at"}
    fetched = api.client.get(download.json()["download_url"])
    assert (fetched.status_code, fetched.content) == (200, OUTPUT)
    assert fetched.headers["content-type"] == "audio/wav"

    clone = api.client.post(
        path + ":clone", json={"params": {"intensity": 0.9}}, headers=as_user(ALICE)
    )
    assert clone.status_code == 201, clone.text
    cloned = clone.json()
    assert cloned["id"] != job["id"]
    assert (cloned["status"], cloned["input_object_key"], cloned["singer_profile_id"]) == (
        "queued",
        prepared["object_key"],
        profile_id,
    )
    assert cloned["params"] == {**job["params"], "intensity": 0.9}  # style warm kept
    assert api.queued()[-1] == RenderJobMessage(
        user_id=ALICE, job_id=uuid.UUID(cloned["id"]), request_id=clone.headers["x-request-id"]
    )


def moved_to(api, job_id: uuid.UUID, status: str) -> None:
    """Alice's queued job ``job_id`` moved to ``status`` as the worker or a cancel would."""
    job = api.service.jobs.get(user_id=ALICE, job_id=job_id)
    if status == "running":
        assert api.service.jobs.transition(
            user_id=ALICE, job_id=job_id, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
        )
    elif status == "done":
        finish_job(api.service, ALICE, job_id, OUTPUT)
    elif status == "failed":
        assert fail_job(api.service, job, code="not_a_wav", message="not a RIFF/WAVE file")
    elif status == "canceled":
        cancel_job(api.service, user_id=ALICE, job_id=job_id)
    assert api.service.jobs.get(user_id=ALICE, job_id=job_id).status.value == status


@pytest.mark.parametrize("status", [status.value for status in JobStatus])
def test_a_jobs_input_downloads_as_uploaded_whatever_its_status(api, status):
    job_id = uuid.UUID(create_job(api)["id"])
    moved_to(api, job_id, status)
    before = datetime.now(UTC)

    response = api.client.post(f"/v1/render-jobs/{job_id}:download-input", headers=as_user(ALICE))

    assert response.status_code == 200, response.text
    link = response.json()
    assert set(link) == {"download_url", "expires_at"}  # the shape of :download's answer
    expires_in = datetime.fromisoformat(link["expires_at"]) - before
    assert timedelta(0) < expires_in <= timedelta(seconds=DOWNLOAD_URL_EXPIRES_S + 1)
    fetched = api.client.get(link["download_url"])
    assert (fetched.status_code, fetched.content) == (200, STEM)
    assert fetched.headers["content-type"] == "audio/wav"


def test_a_clones_input_is_its_originals_and_a_retried_download_is_replayed(api):
    job_id = uuid.UUID(create_job(api)["id"])
    finish_job(api.service, ALICE, job_id, OUTPUT)
    clone = api.client.post(f"/v1/render-jobs/{job_id}:clone", json={}, headers=as_user(ALICE))
    path = f"/v1/render-jobs/{clone.json()['id']}:download-input"
    headers = as_user(ALICE) | {"Idempotency-Key": "input-of-the-clone"}

    first = api.client.post(path, headers=headers)
    again = api.client.post(path, headers=headers)

    assert first.status_code == 200, first.text
    assert api.client.get(first.json()["download_url"]).content == STEM
    assert "idempotent-replayed" not in first.headers
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["idempotent-replayed"] == "true"


def test_a_clone_carries_the_originals_feature_cache_entry(api):
    job = create_job(api)
    job_id = uuid.UUID(job["id"])
    entry = api.service.feature_cache.add(
        FeatureCacheEntry.new(
            user_id=ALICE,
            input_hash=input_hash(STEM),  # the worker's hash of the upload
            feature_version="v1",
            duration_s=2.0,
            now=api.service.clock.now(),
        )
    )
    assert api.service.jobs.transition(
        user_id=ALICE,
        job_id=job_id,
        from_status=JobStatus.QUEUED,
        to_status=JobStatus.RUNNING,
        input_hash=entry.input_hash,
        stem_feature_cache_id=entry.id,
    )
    clone = api.client.post(f"/v1/render-jobs/{job_id}:clone", headers=as_user(ALICE)).json()
    # the hash, not the entry: the worker looks the entry up when it runs, so a sweep that
    # evicted it meanwhile costs a re-extraction, never the clone
    assert (clone["input_hash"], clone["stem_feature_cache_id"]) == (entry.input_hash, None)
    assert clone["params"] == job["params"]


def test_a_failed_job_shows_its_error(api):
    job_id = uuid.UUID(create_job(api)["id"])
    assert api.service.jobs.transition(
        user_id=ALICE,
        job_id=job_id,
        from_status=JobStatus.QUEUED,
        to_status=JobStatus.FAILED,
        error_code="not_a_wav",
        error_message="the upload is not a RIFF/WAVE file",
    )
    job = api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).json()
    assert (job["status"], job["error"]) == (
        "failed",
        {"code": "not_a_wav", "message": "the upload is not a RIFF/WAVE file"},
    )
    download = api.client.post(f"/v1/render-jobs/{job_id}:download", headers=as_user(ALICE))
    assert download.status_code == 409


def test_progress_is_reported_as_written(api):
    job_id = uuid.UUID(create_job(api)["id"])
    move = {"user_id": ALICE, "job_id": job_id}
    assert api.service.jobs.transition(
        **move, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
    )
    assert api.service.jobs.update_progress(
        **move, progress=Progress(chunks_done=2, chunks_total=5)
    )
    job = api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).json()
    assert (job["status"], job["progress"]) == ("running", {"chunks_done": 2, "chunks_total": 5})


@pytest.mark.parametrize(
    ("built", "status", "reason"),
    [(False, None, "building and not built yet"), (True, ProfileStatus.ERROR, "error")],
    ids=["never_built", "in_error"],
)
def test_a_job_needs_a_built_profile_not_in_error(api, built, status, reason):
    response = api.client.post("/v1/singer-profiles", json={"name": "Alto"}, headers=as_user(ALICE))
    profile_id = response.json()["id"]
    if built:
        build_profile(api.service, ALICE, uuid.UUID(profile_id))
    if status is not None:
        api.service.profiles.set_status(
            user_id=ALICE, profile_id=uuid.UUID(profile_id), status=status
        )
    prepared = uploaded_input(api)
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 409
    assert refused.json()["error"] == {
        "code": "not_ready",
        "message": f"singer profile {profile_id} is {reason}; a render needs it built",
    }
    assert api.queued() == []


def test_a_job_and_a_clone_may_use_a_profile_being_rebuilt(api):
    """A new reference committed to a built profile makes it ``building`` again; renders go on
    with the embedding it has until the rebuild replaces it."""
    profile_id = ready_profile(api)
    path = f"/v1/singer-profiles/{profile_id}/references"
    reference = api.client.post(path + ":prepare-upload", headers=as_user(ALICE)).json()
    assert api.client.put(reference["upload_url"], content=STEM).status_code == 204
    commit = {
        "ref_id": reference["ref_id"],
        "object_key": reference["object_key"],
        "duration_sec": 2.0,
    }
    committed = api.client.post(path + ":commit", json=commit, headers=as_user(ALICE))
    assert (committed.status_code, committed.json()["status"]) == (202, "building")

    prepared = uploaded_input(api)
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    created = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert created.status_code == 201, created.text
    clone = api.client.post(
        f"/v1/render-jobs/{created.json()['id']}:clone", json={}, headers=as_user(ALICE)
    )
    assert clone.status_code == 201, clone.text
    assert [type(message) for message in api.queued()] == [
        ProfileBuildMessage,
        RenderJobMessage,
        RenderJobMessage,
    ]


def test_a_job_needs_its_input_uploaded(api):
    profile_id = ready_profile(api)
    prepared = api.client.post("/v1/render-jobs:prepare-upload", headers=as_user(ALICE)).json()
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "object_not_found"
    assert (
        api.client.get(f"/v1/render-jobs/{prepared['job_id']}", headers=as_user(ALICE)).status_code
        == 404
    )


def test_a_job_refuses_an_input_over_the_size_limit(api, monkeypatch):
    monkeypatch.setattr("voxregen_core.use_cases.uploads.MAX_UPLOAD_BYTES", len(STEM) - 1)
    profile_id = ready_profile(api)
    prepared = uploaded_input(api)
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "upload_too_large"


def test_one_reserved_key_makes_one_job(api):
    job = create_job(api)
    body = {
        "singer_profile_id": job["singer_profile_id"],
        "input_object_key": job["input_object_key"],
    }
    again = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert len(api.queued()) == 1


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("input.wav", "not a voxregen storage key: 'input.wav'"),
        (
            f"users/{ALICE}/jobs/{uuid.UUID(int=7)}/output.wav",
            "input_object_key must be a job input key",
        ),
    ],
)
def test_a_job_refuses_a_key_that_is_not_a_job_input(api, key, message):
    profile_id = ready_profile(api)
    body = {"singer_profile_id": profile_id, "input_object_key": key}
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 422
    [problem] = refused.json()["error"]["problems"]
    assert problem["path"] == "$.input_object_key"
    assert problem["message"].startswith(message)


def test_a_job_from_another_users_upload_is_a_404_like_a_missing_upload(api):
    bobs = uploaded_input(api, BOB)
    profile_id = ready_profile(api, ALICE)
    body = {"singer_profile_id": profile_id, "input_object_key": bobs["object_key"]}
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 404
    assert refused.json()["error"] == {
        "code": "object_not_found",
        "message": f"no object under {bobs['object_key']}",
    }
    assert api.queued() == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"intensity": 1.5}, "'intensity' must be <= 1.0: 1.5"),
        ({"intensity": "high"}, "intensity must be a number, got 'high'"),
        ({"style": "loud"}, "style must be one of natural, warm, bright, airy; got 'loud'"),
        ({"target_lufs": -14}, "target_lufs is locked to -18.0 by the product, got -14.0"),
        ({"tempo": 120}, "unknown params field 'tempo'"),
    ],
)
def test_params_outside_their_ranges_are_a_422_at_params(api, params, message):
    profile_id = ready_profile(api)
    prepared = uploaded_input(api)
    body = {
        "singer_profile_id": profile_id,
        "input_object_key": prepared["object_key"],
        "params": params,
    }
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 422
    [problem] = refused.json()["error"]["problems"]
    assert problem["path"] == "$.params"
    assert problem["message"].startswith(message)


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, ["$.singer_profile_id", "$.input_object_key"]),
        (
            {"singer_profile_id": 7, "input_object_key": None, "extra": 1},
            ["$.extra", "$.singer_profile_id", "$.input_object_key"],
        ),
        (
            {"singer_profile_id": str(uuid.uuid4()), "input_object_key": "k", "params": []},
            ["$.params"],
        ),
    ],
)
def test_job_bodies_are_checked_field_by_field(api, body, paths):
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 422
    assert [p["path"] for p in refused.json()["error"]["problems"]] == paths


def test_clone_params_are_checked_over_the_originals(api):
    job = create_job(api)
    refused = api.client.post(
        f"/v1/render-jobs/{job['id']}:clone",
        json={"params": {"intensity": -1}},
        headers=as_user(ALICE),
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["problems"] == [
        {"path": "$.params", "message": "'intensity' must be >= 0.0: -1.0"}
    ]
    unknown = api.client.post(
        f"/v1/render-jobs/{job['id']}:clone", json={"param": {}}, headers=as_user(ALICE)
    )
    assert unknown.json()["error"]["problems"] == [
        {
            "path": "$.param",
            "message": "unknown field; allowed: params, webhook_events, webhook_url",
        }
    ]
    assert len(api.queued()) == 1


def test_another_users_job_is_a_404_on_every_job_endpoint(api):
    job = create_job(api, ALICE)
    finish_job(api.service, ALICE, uuid.UUID(job["id"]), OUTPUT)
    missing = str(uuid.uuid4())
    verbs = [("", None), (":download", None), (":download-input", None)]
    for verb, body in [*verbs, (":clone", {"params": {"intensity": 0.1}})]:
        for job_id in (job["id"], missing):
            path = f"/v1/render-jobs/{job_id}{verb}"
            response = (
                api.client.get(path, headers=as_user(BOB))
                if not verb
                else api.client.post(path, json=body, headers=as_user(BOB))
            )
            assert response.status_code == 404, (verb, job_id)
            assert response.json()["error"] == {
                "code": "not_found",
                "message": f"no render job {job_id}",
            }
    bobs_profile = ready_profile(api, BOB)
    body = {"singer_profile_id": bobs_profile, "input_object_key": job["input_object_key"]}
    assert api.client.post("/v1/render-jobs", json=body, headers=as_user(BOB)).status_code == 404
    alices_profile = {
        "singer_profile_id": job["singer_profile_id"],
        "input_object_key": uploaded_input(api, BOB)["object_key"],
    }
    refused = api.client.post("/v1/render-jobs", json=alices_profile, headers=as_user(BOB))
    assert refused.status_code == 404
    assert refused.json()["error"] == {
        "code": "not_found",
        "message": f"no singer profile {job['singer_profile_id']}",
    }
    assert len(api.queued()) == 1  # only Alice's own job


def test_colon_verbs_are_routed_as_verbs(api):
    job_id = create_job(api)["id"]
    base = f"/v1/render-jobs/{job_id}"
    assert api.client.get(base + ":download", headers=as_user(ALICE)).status_code == 405
    assert api.client.get(base + ":download-input", headers=as_user(ALICE)).status_code == 405
    assert api.client.get(base + ":clone", headers=as_user(ALICE)).status_code == 405
    assert api.client.post(base, headers=as_user(ALICE)).status_code == 405
    unknown_verb = api.client.post(base + ":explode", headers=as_user(ALICE))
    assert (unknown_verb.status_code, unknown_verb.json()["error"]["code"]) == (404, "not_found")
    assert (
        api.client.post(base + ":download", headers=as_user(ALICE)).json()["error"]["code"]
        == "not_ready"
    )
    assert (
        api.client.get("/v1/render-jobs:prepare-upload", headers=as_user(ALICE)).status_code == 405
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "alice",
        "a11ce000000040008000000000000001",
        "{a11ce000-0000-4000-8000-000000000001}",
    ],
)
def test_every_v1_endpoint_needs_a_user_id(api, header):
    job_id, profile_id = uuid.uuid4(), uuid.uuid4()
    headers = {} if header is None else {"X-User-Id": header}
    calls = [
        ("POST", "/v1/singer-profiles"),
        ("GET", f"/v1/singer-profiles/{profile_id}"),
        ("POST", f"/v1/singer-profiles/{profile_id}/references:prepare-upload"),
        ("POST", f"/v1/singer-profiles/{profile_id}/references:commit"),
        ("POST", "/v1/render-jobs:prepare-upload"),
        ("POST", "/v1/render-jobs"),
        ("GET", f"/v1/render-jobs/{job_id}"),
        ("POST", f"/v1/render-jobs/{job_id}:download"),
        ("POST", f"/v1/render-jobs/{job_id}:download-input"),
        ("POST", f"/v1/render-jobs/{job_id}:clone"),
    ]
    for method, path in calls:
        response = api.client.request(method, path, json={}, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthenticated"


def test_a_job_the_queue_cannot_take_fails_at_once(fresh_database_url, redis_url, tmp_path):
    unreachable = DramatiqJobQueue(make_broker(UNREACHABLE_REDIS_URL))
    with running_api(fresh_database_url, redis_url, tmp_path, queue=unreachable) as api:
        profile_id = ready_profile(api)
        prepared = uploaded_input(api)
        body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
        refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "queue_unavailable"
        job = api.client.get(f"/v1/render-jobs/{prepared['job_id']}", headers=as_user(ALICE))
        assert (job.json()["status"], job.json()["error"]["code"]) == (
            "failed",
            "queue_unavailable",
        )


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b'{"params": {"intensity": 1' + b"0" * 400 + b"}}", 422, "invalid_body"),
        (b'{"params": {"intensity": ' + b"1" * 5000 + b"}}", 400, "malformed_json"),
    ],
)
def test_huge_numbers_are_refused_not_crashed_on(api, raw, status, code):
    job_id = create_job(api)["id"]
    response = api.client.post(
        f"/v1/render-jobs/{job_id}:clone",
        content=raw,
        headers={**as_user(ALICE), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_a_queued_job_is_canceled_its_chunks_deleted_and_a_second_cancel_answers_it_again(api):
    job = create_job(api)
    job_id = uuid.UUID(job["id"])
    leftover = chunk_key(ALICE, job_id, 0)
    api.service.store.put(leftover, b"a chunk a worker stored")

    response = api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=as_user(ALICE))
    assert response.status_code == 200, response.text
    canceled = response.json()
    assert (canceled["status"], canceled["error"], canceled["output_object_key"]) == (
        "canceled",
        None,
        None,
    )
    assert not api.service.store.exists(leftover)
    assert api.service.store.exists(job["input_object_key"])  # the producer's stem stays

    again = api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=as_user(ALICE))
    assert again.status_code == 200 and again.json() == canceled
    listed = api.client.get("/v1/render-jobs?status=canceled", headers=as_user(ALICE)).json()
    assert [item["id"] for item in listed["items"]] == [job["id"]]
    download = api.client.post(f"/v1/render-jobs/{job_id}:download", headers=as_user(ALICE))
    assert download.status_code == 409 and download.json()["error"]["code"] == "not_ready"


def test_a_running_job_is_canceled(api):
    job_id = uuid.UUID(create_job(api)["id"])
    move = {"user_id": ALICE, "job_id": job_id}
    assert api.service.jobs.transition(
        **move, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING
    )
    response = api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=as_user(ALICE))
    assert response.status_code == 200 and response.json()["status"] == "canceled"


@pytest.mark.parametrize("finished", ["done", "failed"])
def test_a_finished_job_cannot_be_canceled(api, finished):
    job_id = uuid.UUID(create_job(api)["id"])
    if finished == "done":
        finish_job(api.service, ALICE, job_id, OUTPUT)
    else:
        fail_job(
            api.service, api.service.jobs.get(user_id=ALICE, job_id=job_id), code="x", message="y"
        )
    before = api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).json()

    response = api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=as_user(ALICE))
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "job_finished",
        "message": f"render job {job_id} is {finished}; only a queued or running job can be canceled",
    }
    assert api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).json() == before


def test_a_deleted_job_answers_404_and_its_files_are_gone(api):
    job = create_job(api)
    job_id = uuid.UUID(job["id"])
    finish_job(api.service, ALICE, job_id, OUTPUT)

    response = api.client.delete(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE))
    assert (response.status_code, response.content) == (204, b"")
    assert api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE)).status_code == 404
    assert api.service.store.list(f"users/{ALICE}/jobs/{job_id}/") == []
    again = api.client.delete(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE))
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


def test_a_queued_job_is_canceled_then_deleted(api):
    job_id = uuid.UUID(create_job(api)["id"])
    response = api.client.delete(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE))
    assert response.status_code == 204
    assert api.service.jobs.get(user_id=ALICE, job_id=job_id) is None
    listed = api.client.get("/v1/render-jobs", headers=as_user(ALICE)).json()
    assert listed == {"items": [], "next_cursor": None}
