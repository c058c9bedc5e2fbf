"""An upload URL writes once: after a job or reference is created on its upload, a second PUT
to the same, still valid URL changes nothing the job, its clones or the profile build read.

Over the real HTTP app and PostgreSQL, with each store: the local one, whose route refuses
the PUT (409 ``upload_sealed``), and S3 (moto's server, reached over HTTP as a client would),
which accepts it under the upload key, where nothing reads it. The worker's render and profile
build run in this process on the same service. A clone of an input that changed by another way
than the URL (written straight into the store here, as an operator or a bug could) is refused,
409 ``input_changed``, or fails with that code in the worker if the input changed after the
clone was queued.
"""

import uuid

import httpx
import pytest

from tests.integration.http_api import PUBLIC_URL, as_user, build_profile, running_api
from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY
from tests.integration.worker_world import reference_wav, render_to_end
from tests.signals import sine, wav_bytes
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_core.input_hash import input_hash
from voxregen_core.keys import job_prefix, profile_prefix, upload_key_for
from voxregen_worker.profile_build import profile_build

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
STEM = wav_bytes(sine(220.0, peak_dbfs=-6.0, duration_s=2.0), subtype="PCM_16")
OTHER_STEM = wav_bytes(sine(330.0, peak_dbfs=-3.0, duration_s=3.0), subtype="PCM_16")


@pytest.fixture(params=["local", "s3"])
def api(request, fresh_database_url, redis_url, tmp_path):
    storage_url = None
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"voxregen-{uuid.uuid4().hex}"
        storage_url = f"s3://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/{bucket}?secure=false"
    with running_api(fresh_database_url, redis_url, tmp_path, storage_url=storage_url) as api:
        yield api


def call(api, method: str, path: str, body: dict | None = None) -> httpx.Response:
    return api.client.request(method, path, json=body, headers=as_user(ALICE))


def put(api, upload_url: str, data: bytes) -> httpx.Response:
    """PUT ``data`` to an upload URL as a client does: the app's own route (local storage), or
    the S3 server over HTTP (moto needs a content type to keep a body as bytes)."""
    if upload_url.startswith(PUBLIC_URL):
        return api.client.put(upload_url, content=data)
    return httpx.put(upload_url, content=data, headers={"Content-Type": "application/octet-stream"})


def assert_uploaded(response: httpx.Response) -> None:
    assert response.status_code in (200, 204), response.text  # S3 answers 200, the app 204


def assert_sealed_or_inert(api, response: httpx.Response) -> None:
    """The second PUT's answer: refused by the local store's route; taken by S3, which the
    service cannot refuse for a URL it presigned (the rest of each test shows it is inert)."""
    if isinstance(api.service.store, LocalObjectStore):
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "upload_sealed"
    else:
        assert response.status_code == 200, response.text


def prepared_job_upload(api) -> dict:
    response = call(api, "POST", "/v1/render-jobs:prepare-upload")
    assert response.status_code == 200, response.text
    return response.json()


def new_profile(api, *, built: bool = True) -> str:
    profile_id = call(api, "POST", "/v1/singer-profiles", {"name": "Alto"}).json()["id"]
    if built:
        build_profile(api.service, ALICE, uuid.UUID(profile_id))
    return profile_id


def created(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return response.json()["id"]


def rendered(api, job_id: str) -> dict:
    """The job after the worker ran it, as GET answers it."""
    render_to_end(api.service, ALICE, uuid.UUID(job_id))
    return call(api, "GET", f"/v1/render-jobs/{job_id}").json()


def done_job(api) -> str:
    """The id of a job rendered from ``STEM``, uploaded through its URL."""
    prepared = prepared_job_upload(api)
    assert_uploaded(put(api, prepared["upload_url"], STEM))
    body = {"singer_profile_id": new_profile(api), "input_object_key": prepared["object_key"]}
    job_id = created(call(api, "POST", "/v1/render-jobs", body))
    job = rendered(api, job_id)
    assert (job["status"], job["input_hash"]) == ("done", input_hash(STEM)), job["error"]
    return job_id


def test_a_put_after_the_create_changes_nothing_the_job_or_its_clone_renders(api):
    prepared = prepared_job_upload(api)
    key = prepared["object_key"]
    assert_uploaded(put(api, prepared["upload_url"], STEM))
    body = {"singer_profile_id": new_profile(api), "input_object_key": key}
    job_id = created(call(api, "POST", "/v1/render-jobs", body))

    assert_sealed_or_inert(api, put(api, prepared["upload_url"], OTHER_STEM))
    assert api.service.store.get(key) == STEM

    job = rendered(api, job_id)
    assert (job["status"], job["input_hash"]) == ("done", input_hash(STEM)), job["error"]
    assert_sealed_or_inert(api, put(api, prepared["upload_url"], OTHER_STEM))  # after done too
    clone_id = created(call(api, "POST", f"/v1/render-jobs/{job_id}:clone", {}))
    clone = rendered(api, clone_id)
    assert (clone["status"], clone["input_object_key"]) == ("done", key), clone["error"]
    assert clone["input_hash"] == input_hash(STEM)  # the worker's hash of what it read
    assert clone["metrics"]["feature_cache_hit"] is True
    again = call(api, "POST", "/v1/render-jobs", body)  # whatever the upload key holds now
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    assert api.service.store.get(key) == STEM

    for deleted in (job_id, clone_id):
        assert call(api, "DELETE", f"/v1/render-jobs/{deleted}").status_code == 204
    assert api.service.store.list(job_prefix(ALICE, uuid.UUID(job_id))) == []  # S3's PUT too


def test_before_the_create_a_put_replaces_the_upload_and_a_refused_create_keeps_the_url_open(
    api,
):
    prepared = prepared_job_upload(api)
    profile_id = new_profile(api, built=False)
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    assert_uploaded(put(api, prepared["upload_url"], OTHER_STEM))
    refused = call(api, "POST", "/v1/render-jobs", body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_ready")

    assert_uploaded(put(api, prepared["upload_url"], STEM))  # the right file, at last
    build_profile(api.service, ALICE, uuid.UUID(profile_id))
    job_id = created(call(api, "POST", "/v1/render-jobs", body))
    assert api.service.store.get(prepared["object_key"]) == STEM
    assert rendered(api, job_id)["input_hash"] == input_hash(STEM)


def test_a_clone_of_an_input_changed_behind_the_url_is_a_409_input_changed(api):
    job_id = done_job(api)
    key = call(api, "GET", f"/v1/render-jobs/{job_id}").json()["input_object_key"]
    api.service.store.put(key, OTHER_STEM)  # not through any URL

    refused = call(api, "POST", f"/v1/render-jobs/{job_id}:clone", {})

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "input_changed"
    assert f"{input_hash(OTHER_STEM)}, expected {input_hash(STEM)}" in error["message"]
    assert [job["id"] for job in call(api, "GET", "/v1/render-jobs").json()["items"]] == [job_id]


def test_a_clone_whose_input_changes_after_it_is_queued_fails_input_changed(api):
    job_id = done_job(api)
    clone_id = created(call(api, "POST", f"/v1/render-jobs/{job_id}:clone", {}))
    key = call(api, "GET", f"/v1/render-jobs/{job_id}").json()["input_object_key"]
    api.service.store.put(key, OTHER_STEM)

    clone = rendered(api, clone_id)

    assert (clone["status"], clone["output_object_key"]) == ("failed", None)
    assert clone["error"]["code"] == "input_changed"
    assert clone["input_hash"] == input_hash(STEM)  # still the one it was cloned for


def test_a_put_after_the_commit_changes_nothing_the_profile_build_reads(api):
    profile_id = new_profile(api, built=False)
    references = f"/v1/singer-profiles/{profile_id}/references"
    prepared = call(api, "POST", f"{references}:prepare-upload").json()
    clip = reference_wav(seconds=4.0)
    assert_uploaded(put(api, prepared["upload_url"], clip))
    commit = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"]}
    assert call(api, "POST", f"{references}:commit", commit).status_code == 202

    assert_sealed_or_inert(api, put(api, prepared["upload_url"], reference_wav(seconds=6.0)))
    assert call(api, "POST", f"{references}:commit", commit).status_code == 202  # again: kept
    assert api.service.store.get(prepared["object_key"]) == clip

    profile_build(api.service, ALICE, uuid.UUID(profile_id))
    profile = call(api, "GET", f"/v1/singer-profiles/{profile_id}").json()
    assert profile["status"] == "ready"
    assert [reference["duration_sec"] for reference in profile["references"]] == [4.0]

    deleted = call(api, "DELETE", f"{references}/{prepared['ref_id']}")
    assert deleted.status_code == 204, deleted.text
    assert not api.service.store.exists(upload_key_for(prepared["object_key"]))  # S3's PUT
    assert api.service.store.list(profile_prefix(ALICE, uuid.UUID(profile_id))) == []
