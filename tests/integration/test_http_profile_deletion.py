"""Deleting references and profiles over HTTP, on the real PostgreSQL and local store, with the
worker's profile build run in this process: a deleted reference takes its clip and exemplars
with it and the profile is rebuilt from the rest (usable meanwhile); the last one deleted
leaves a profile waiting for a reference; a deleted profile takes its references, exemplars
and every clip uploaded for it, keeps its finished jobs (and their outputs), and is refused
while a queued job renders with it."""

import uuid

import pytest

from tests.integration.http_api import as_user, finish_job, running_api
from tests.integration.http_world import assert_error
from tests.integration.worker_world import reference_wav
from tests.signals import sine, wav_bytes
from voxregen_core.keys import job_output_key, profile_prefix, upload_key_for
from voxregen_worker.profile_build import profile_build

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
STEM = wav_bytes(sine(220.0, peak_dbfs=-6.0, duration_s=1.0), subtype="PCM_16")


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


def get(api, path: str) -> dict:
    response = api.client.get(path, headers=as_user(ALICE))
    assert response.status_code == 200, response.text
    return response.json()


def built_profile(api, references: int) -> tuple[str, list[str]]:
    """A profile built from ``references`` clips: its id and the references' ids."""
    profile_id = api.client.post(
        "/v1/singer-profiles", json={"name": "Alto"}, headers=as_user(ALICE)
    ).json()["id"]
    ref_ids = []
    for seconds in range(4, 4 + references):
        path = f"/v1/singer-profiles/{profile_id}/references"
        prepared = api.client.post(f"{path}:prepare-upload", headers=as_user(ALICE)).json()
        upload = api.client.put(prepared["upload_url"], content=reference_wav(seconds=seconds))
        assert upload.status_code == 204
        commit = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"]}
        assert api.client.post(f"{path}:commit", json=commit, headers=as_user(ALICE)).is_success
        ref_ids.append(prepared["ref_id"])
    profile_build(api.service, ALICE, uuid.UUID(profile_id))
    assert get(api, f"/v1/singer-profiles/{profile_id}")["status"] == "ready"
    return profile_id, ref_ids


def exemplar_sources(api, profile_id: str) -> set[str]:
    exemplars = api.service.exemplars.list_for_profile(
        user_id=ALICE, profile_id=uuid.UUID(profile_id)
    )
    return {str(exemplar.source_reference_id) for exemplar in exemplars}


def new_job(api, profile_id: str) -> str:
    prepared = api.client.post("/v1/render-jobs:prepare-upload", headers=as_user(ALICE)).json()
    assert api.client.put(prepared["upload_url"], content=STEM).status_code == 204
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    response = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_deleted_reference_goes_with_its_clip_and_exemplars_and_the_profile_rebuilds(api):
    profile_id, (kept, deleted) = built_profile(api, references=2)
    clip = get(api, f"/v1/singer-profiles/{profile_id}/references")["items"][0]["object_key"]
    assert exemplar_sources(api, profile_id) == {kept, deleted}
    queued_before = len(api.queued())

    path = f"/v1/singer-profiles/{profile_id}/references/{deleted}"
    response = api.client.delete(path, headers=as_user(ALICE))
    assert (response.status_code, response.content) == (204, b"")

    assert not api.service.store.exists(clip)
    profile = get(api, f"/v1/singer-profiles/{profile_id}")
    assert profile["status"] == "building"  # rebuilding, and still usable meanwhile
    assert [reference["id"] for reference in profile["references"]] == [kept]
    assert exemplar_sources(api, profile_id) == {kept}
    (rebuild,) = api.queued()[queued_before:]
    assert rebuild.profile_id == uuid.UUID(profile_id)
    assert new_job(api, profile_id)  # a render may use it while it rebuilds
    profile_build(api.service, ALICE, uuid.UUID(profile_id))
    assert get(api, f"/v1/singer-profiles/{profile_id}")["status"] == "ready"
    again = api.client.delete(path, headers=as_user(ALICE))
    assert_error(again, 404, {"not_found"})


def test_deleting_the_last_reference_leaves_a_profile_waiting_for_one(api):
    profile_id, (only,) = built_profile(api, references=1)
    response = api.client.delete(
        f"/v1/singer-profiles/{profile_id}/references/{only}", headers=as_user(ALICE)
    )
    assert response.status_code == 204

    profile = get(api, f"/v1/singer-profiles/{profile_id}")
    assert (profile["status"], profile["embedding_version"], profile["references"]) == (
        "building",
        None,
        [],
    )
    assert api.service.store.list(profile_prefix(ALICE, uuid.UUID(profile_id))) == []
    body = {"singer_profile_id": profile_id, "input_object_key": "x"}
    refused = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert refused.status_code == 422  # (the key) and, with a key, 409: nothing built


def test_a_profile_in_use_is_refused_then_deleted_keeping_its_finished_jobs(api):
    profile_id, ref_ids = built_profile(api, references=2)
    path = f"/v1/singer-profiles/{profile_id}/references"
    abandoned = api.client.post(f"{path}:prepare-upload", headers=as_user(ALICE)).json()
    api.client.put(abandoned["upload_url"], content=reference_wav())  # never committed
    done_job, queued_job = new_job(api, profile_id), new_job(api, profile_id)
    finish_job(api.service, ALICE, uuid.UUID(done_job), b"RIFF-output")

    refused = api.client.delete(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE))
    assert_error(refused, 409, {"profile_in_use"})
    assert "1 queued or running render job(s)" in refused.json()["error"]["message"]
    assert len(get(api, f"/v1/singer-profiles/{profile_id}")["references"]) == 2
    assert api.service.store.exists(upload_key_for(abandoned["object_key"]))

    api.client.post(f"/v1/render-jobs/{queued_job}:cancel", headers=as_user(ALICE))
    response = api.client.delete(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE))
    assert response.status_code == 204, response.text

    gone = api.client.get(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE))
    assert_error(gone, 404, {"not_found"})
    assert api.service.store.list(profile_prefix(ALICE, uuid.UUID(profile_id))) == []
    assert (
        api.service.exemplars.list_for_profile(user_id=ALICE, profile_id=uuid.UUID(profile_id))
        == []
    )
    for ref_id in ref_ids:
        assert api.service.references.get(user_id=ALICE, reference_id=uuid.UUID(ref_id)) is None
    job = get(api, f"/v1/render-jobs/{done_job}")
    assert (job["status"], job["singer_profile_id"]) == ("done", None)
    assert api.service.store.exists(job_output_key(ALICE, uuid.UUID(done_job)))
    assert api.client.post(
        f"/v1/render-jobs/{done_job}:download", headers=as_user(ALICE)
    ).is_success
    clone = api.client.post(f"/v1/render-jobs/{done_job}:clone", json={}, headers=as_user(ALICE))
    assert_error(clone, 409, {"not_ready"})
    assert "singer profile was deleted" in clone.json()["error"]["message"]


def test_the_last_reference_of_a_profile_a_queued_job_uses_is_refused(api):
    profile_id, (only,) = built_profile(api, references=1)
    job_id = new_job(api, profile_id)
    path = f"/v1/singer-profiles/{profile_id}/references/{only}"

    refused = api.client.delete(path, headers=as_user(ALICE))
    assert_error(refused, 409, {"profile_in_use"})
    assert get(api, f"/v1/singer-profiles/{profile_id}")["status"] == "ready"
    api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=as_user(ALICE))
    assert api.client.delete(path, headers=as_user(ALICE)).status_code == 204
