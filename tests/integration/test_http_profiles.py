"""Singer profiles over HTTP: create, read, prepare a reference upload, PUT it through the
presigned URL, commit it (a profile_build lands on the real Redis queue); bodies validated at
the edge; another user's profile answered like a missing one."""

import uuid

import pytest

from tests.integration.http_api import as_user, build_profile, running_api
from tests.integration.worker_world import reference_wav
from tests.signals import sine, wav_bytes
from voxregen_core.keys import reference_key, reference_upload_key
from voxregen_core.messages import ProfileBuildMessage
from voxregen_worker.profile_build import profile_build

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
CLIP = wav_bytes(sine(440.0, peak_dbfs=-6.0, duration_s=1.0), subtype="PCM_16")


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


def create_profile(api, user_id=ALICE, name="Alto") -> str:
    response = api.client.post("/v1/singer-profiles", json={"name": name}, headers=as_user(user_id))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def uploaded_reference(api, profile_id: str, user_id=ALICE, data: bytes = CLIP) -> dict:
    prepared = api.client.post(
        f"/v1/singer-profiles/{profile_id}/references:prepare-upload", headers=as_user(user_id)
    ).json()
    assert api.client.put(prepared["upload_url"], content=data).status_code == 204
    return prepared


def test_create_then_get_a_profile(api):
    response = api.client.post("/v1/singer-profiles", json={"name": "Alto"}, headers=as_user(ALICE))
    assert response.status_code == 201
    created = response.json()
    assert created == {"id": created["id"], "status": "building"}
    profile = api.client.get(f"/v1/singer-profiles/{created['id']}", headers=as_user(ALICE))
    assert profile.status_code == 200
    body = profile.json()
    assert (body["id"], body["name"], body["status"], body["references"]) == (
        created["id"],
        "Alto",
        "building",
        [],
    )


def test_prepare_upload_gives_the_brief_key_and_a_working_put_url(api):
    profile_id = create_profile(api)
    response = api.client.post(
        f"/v1/singer-profiles/{profile_id}/references:prepare-upload", headers=as_user(ALICE)
    )
    assert response.status_code == 200
    prepared = response.json()
    assert prepared["object_key"] == reference_key(
        ALICE, uuid.UUID(profile_id), uuid.UUID(prepared["ref_id"])
    )
    upload_key = reference_upload_key(ALICE, uuid.UUID(profile_id), uuid.UUID(prepared["ref_id"]))
    assert prepared["upload_url"].startswith(f"http://testserver/storage/{upload_key}?")
    assert api.client.put(prepared["upload_url"], content=CLIP).status_code == 204
    assert api.service.store.get(upload_key) == CLIP  # until the commit takes it


def test_commit_records_the_reference_marks_building_and_queues_the_build(api):
    profile_id = create_profile(api)
    build_profile(api.service, ALICE, uuid.UUID(profile_id))  # an earlier build made it ready
    prepared = uploaded_reference(api, profile_id)
    body = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"], "duration_sec": 1.0}
    response = api.client.post(
        f"/v1/singer-profiles/{profile_id}/references:commit", json=body, headers=as_user(ALICE)
    )
    assert response.status_code == 202, response.text
    assert response.json() == {
        "profile_id": profile_id,
        "ref_id": prepared["ref_id"],
        "object_key": prepared["object_key"],
        "status": "building",
    }
    profile = api.client.get(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE)).json()
    assert profile["status"] == "building"
    assert [(r["id"], r["object_key"], r["duration_sec"]) for r in profile["references"]] == [
        (prepared["ref_id"], prepared["object_key"], 1.0)
    ]
    assert api.queued() == [
        ProfileBuildMessage(
            user_id=ALICE,
            profile_id=uuid.UUID(profile_id),
            request_id=response.headers["x-request-id"],
        )
    ]


def test_committing_again_only_queues_the_build_again(api):
    profile_id = create_profile(api)
    prepared = uploaded_reference(api, profile_id)
    body = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"], "duration_sec": 1.0}
    path = f"/v1/singer-profiles/{profile_id}/references:commit"
    for _ in range(2):
        assert api.client.post(path, json=body, headers=as_user(ALICE)).status_code == 202
    profile = api.client.get(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE)).json()
    assert len(profile["references"]) == 1
    assert len(api.queued()) == 2


@pytest.mark.parametrize("sent", [{"duration_sec": 99.5}, {}], ids=["wrong", "left_out"])
def test_the_build_stores_the_measured_duration_whatever_the_commit_said(api, sent):
    """``duration_sec`` is advisory (a 24-bit WAVE_FORMAT_EXTENSIBLE file, which Python's
    ``wave`` cannot open, is one the client may not be able to measure)."""
    profile_id = create_profile(api)
    clip = reference_wav(seconds=4.5, subtype="PCM_24", container="WAVEX")
    prepared = uploaded_reference(api, profile_id, data=clip)
    body = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"], **sent}
    path = f"/v1/singer-profiles/{profile_id}/references:commit"
    assert api.client.post(path, json=body, headers=as_user(ALICE)).status_code == 202
    before = api.client.get(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE)).json()
    assert [r["duration_sec"] for r in before["references"]] == [sent.get("duration_sec", 0.0)]

    profile_build(api.service, ALICE, uuid.UUID(profile_id))

    after = api.client.get(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE)).json()
    assert after["status"] == "ready", after
    assert [r["duration_sec"] for r in after["references"]] == [4.5]


def test_commit_refuses_a_reference_that_was_never_uploaded(api):
    profile_id = create_profile(api)
    ref_id = uuid.uuid4()
    body = {
        "ref_id": str(ref_id),
        "object_key": reference_key(ALICE, uuid.UUID(profile_id), ref_id),
        "duration_sec": 1.0,
    }
    response = api.client.post(
        f"/v1/singer-profiles/{profile_id}/references:commit", json=body, headers=as_user(ALICE)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "object_not_found"
    assert api.queued() == []


@pytest.mark.parametrize("owner", ["other_profile", "other_user"])
def test_commit_refuses_a_key_of_another_profile_or_user(api, owner):
    profile_id = create_profile(api)
    other_profile = uuid.UUID(create_profile(api, BOB if owner == "other_user" else ALICE))
    ref_id = uuid.uuid4()
    key = reference_key(BOB if owner == "other_user" else ALICE, other_profile, ref_id)
    api.service.store.put(key, CLIP)
    body = {"ref_id": str(ref_id), "object_key": key, "duration_sec": 1.0}
    response = api.client.post(
        f"/v1/singer-profiles/{profile_id}/references:commit", json=body, headers=as_user(ALICE)
    )
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "object_not_found",
        "message": f"no upload of reference {ref_id} under {key}; commit the object_key its "
        f"prepare-upload returned, {reference_key(ALICE, uuid.UUID(profile_id), ref_id)}",
    }
    assert api.queued() == []


def test_commit_refuses_an_upload_over_the_size_limit(api, monkeypatch):
    monkeypatch.setattr("voxregen_core.use_cases.uploads.MAX_UPLOAD_BYTES", len(CLIP) - 1)
    profile_id = create_profile(api)
    prepared = uploaded_reference(api, profile_id)
    body = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"], "duration_sec": 1.0}
    response = api.client.post(
        f"/v1/singer-profiles/{profile_id}/references:commit", json=body, headers=as_user(ALICE)
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "upload_too_large"
    assert f"is {len(CLIP)} bytes" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({}, [("$.name", "required field missing")]),
        ({"name": 5}, [("$.name", "expected a string, got a number")]),
        (
            {"name": "   "},
            [("$.name", "expected 1 to 200 characters, not blank; got 3 characters")],
        ),
        (
            {"name": "x" * 201},
            [("$.name", "expected 1 to 200 characters, not blank; got 201 characters")],
        ),
        ({"name": "Alto", "owner": "bob"}, [("$.owner", "unknown field; allowed: name")]),
        (
            {"name": "Al\x00to"},
            [("$.name", "expected no control characters (tab, line break, NUL, ...)")],
        ),
        (["Alto"], [("$", "expected a JSON object, got an array")]),
    ],
)
def test_create_refuses_bad_bodies_naming_the_json_path(api, body, problems):
    response = api.client.post("/v1/singer-profiles", json=body, headers=as_user(ALICE))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_body"
    assert [(p["path"], p["message"]) for p in error["problems"]] == problems


def test_a_lone_surrogate_is_not_text(api):
    response = api.client.post(
        "/v1/singer-profiles",
        content=b'{"name": "Al\\ud800to"}',  # valid JSON, but no UTF-8 string
        headers={**as_user(ALICE), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["problems"] == [
        {"path": "$.name", "message": "expected Unicode text, got a lone surrogate"}
    ]


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        (
            {"ref_id": "nope", "object_key": 1, "duration_sec": "1"},
            ["$.ref_id", "$.object_key", "$.duration_sec"],
        ),
        ({"ref_id": str(uuid.uuid4()), "object_key": "k", "duration_sec": 0}, ["$.duration_sec"]),
        ({"ref_id": str(uuid.uuid4()), "object_key": "k", "duration_sec": 481}, ["$.duration_sec"]),
        (
            {"ref_id": str(uuid.uuid4()), "object_key": "k", "duration_sec": True},
            ["$.duration_sec"],
        ),
        (
            {"ref_id": str(uuid.uuid4()), "object_key": "k", "duration_sec": None},
            ["$.duration_sec"],
        ),
        ({"duration_sec": 3.0}, ["$.ref_id", "$.object_key"]),
    ],
)
def test_commit_refuses_wrong_typed_or_out_of_range_fields(api, body, paths):
    profile_id = create_profile(api)
    response = api.client.post(
        f"/v1/singer-profiles/{profile_id}/references:commit", json=body, headers=as_user(ALICE)
    )
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["error"]["problems"]] == paths


@pytest.mark.parametrize("raw", [b"{", b'{"name": NaN}', b"\xff\xfe", b"[1,]"])
def test_malformed_json_is_a_400_with_a_message(api, raw):
    response = api.client.post(
        "/v1/singer-profiles",
        content=raw,
        headers={**as_user(ALICE), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_json"
    assert error["message"].startswith("the body is not valid JSON: ")


def test_another_users_profile_is_a_404_on_every_profile_endpoint(api):
    profile_id = create_profile(api, ALICE)
    prepared = uploaded_reference(api, profile_id)
    commit = {
        "ref_id": prepared["ref_id"],
        "object_key": prepared["object_key"],
        "duration_sec": 1.0,
    }
    base = f"/v1/singer-profiles/{profile_id}"
    attempts = [
        api.client.get(base, headers=as_user(BOB)),
        api.client.post(base + "/references:prepare-upload", headers=as_user(BOB)),
        api.client.post(base + "/references:commit", json=commit, headers=as_user(BOB)),
    ]
    missing = f"/v1/singer-profiles/{uuid.uuid4()}"
    for attempt, for_a_missing_one in zip(
        attempts,
        [
            api.client.get(missing, headers=as_user(BOB)),
            api.client.post(missing + "/references:prepare-upload", headers=as_user(BOB)),
            api.client.post(missing + "/references:commit", json=commit, headers=as_user(BOB)),
        ],
        strict=True,
    ):
        assert attempt.status_code == 404
        assert attempt.json()["error"]["code"] == for_a_missing_one.json()["error"]["code"]
        assert attempt.json()["error"]["message"].replace(profile_id, "ID") == (
            for_a_missing_one.json()["error"]["message"].replace(missing.rsplit("/", 1)[1], "ID")
        )
    assert api.queued() == []
    assert api.client.get(base, headers=as_user(ALICE)).json()["references"] == []


@pytest.mark.parametrize("path", ["/v1/singer-profiles/not-a-uuid", "/v1/singer-profiles/1:commit"])
def test_a_malformed_id_is_a_404(api, path):
    response = api.client.get(path, headers=as_user(ALICE))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
