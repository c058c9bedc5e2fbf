"""An upload URL writes once, with real processes over S3 (moto's server): a PUT to a job's
upload URL after the job was created is taken by S3 but reaches nothing the worker renders,
for the job and for its clone; an input changed behind the URL makes a clone a 409
``input_changed``."""

import pytest

from tests.e2e.stack import Stack, check_done, put_object, singing_wav, stem_s_for
from voxregen_core.input_hash import input_hash


@pytest.mark.slow
def test_a_put_after_the_create_changes_nothing_the_worker_renders(stack: Stack):
    ada = stack.user()
    profile_id = ada.ready_profile()
    stem = singing_wav(stem_s_for(1), seed=8)
    other = singing_wav(stem_s_for(2), seed=9)  # two chunks: a render of it would show
    prepared = ada.uploaded_input(stem)
    job_id = ada.create_job(profile_id, prepared["object_key"])["id"]

    put_object(prepared["upload_url"], other)  # S3 takes it, under the upload key

    check_done(ada.finished(job_id), chunks=1, context=stack.logs)
    assert ada.job(job_id)["input_hash"] == input_hash(stem)
    put_object(prepared["upload_url"], other)
    clone = ada.post(f"/v1/render-jobs/{job_id}:clone", {})
    assert clone.status_code == 201, clone.text
    check_done(ada.finished(clone.json()["id"]), chunks=1, context=stack.logs)
    assert ada.job(clone.json()["id"])["input_hash"] == input_hash(stem)
    assert stack.stored_input(ada.id, job_id) == stem

    with stack.service() as service:  # not through a URL: an operator, a bug
        service.store.put(prepared["object_key"], other)
    refused = ada.post(f"/v1/render-jobs/{job_id}:clone", {})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "input_changed")
    jobs = ada.get(f"/v1/render-jobs?singer_profile_id={profile_id}").json()["items"]
    assert {job["id"] for job in jobs} == {job_id, clone.json()["id"]}  # no third job
