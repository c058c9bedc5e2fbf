"""Cancel, with real processes: a producer cancels a job while a worker generates one of its
chunks. The job ends ``canceled`` and stays so, its remaining chunk messages do nothing, no
output is delivered, no chunk object is left, and the same worker goes on to render the next
job."""

import uuid

import pytest

from tests.e2e.stack import Stack, check_done, singing_wav, stem_s_for, wait_for
from voxregen_core.keys import chunks_prefix, job_output_key

CHUNKS = 4
SECONDS_PER_CHUNK = "1.5"


@pytest.mark.slow
def test_a_job_canceled_mid_chunk_delivers_nothing_and_the_worker_goes_on(api_stack: Stack):
    worker = api_stack.start_worker(env={"VOXREGEN_STUB_SECONDS_PER_CHUNK": SECONDS_PER_CHUNK})
    ada = api_stack.user()
    profile_id = ada.ready_profile()
    job_id = ada.submit(profile_id, singing_wav(stem_s_for(CHUNKS), seed=5))
    wait_for(
        lambda: worker.events("render_chunk_generating"),
        what="a chunk generating",
        context=api_stack.logs,
    )

    canceled = ada.post(f"/v1/render-jobs/{job_id}:cancel")
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    # the chunk in flight is stored after the cancel, found canceled and deleted
    wait_for(
        lambda: worker.events("render_chunk_job_finished_elsewhere"),
        what="the chunk in flight to end",
        context=api_stack.logs,
    )
    wait_for(api_stack.pending_messages, until=lambda n: n == 0, what="no message left")

    job = ada.job(job_id)
    assert (job["status"], job["output_object_key"]) == ("canceled", None), api_stack.logs()
    assert job["progress"]["chunks_done"] < CHUNKS
    user_id = ada.id
    with api_stack.service() as service:
        assert service.store.list(chunks_prefix(user_id, uuid.UUID(job_id))) == []
        assert not service.store.exists(job_output_key(user_id, uuid.UUID(job_id)))
    generating = [event["chunk_index"] for event in worker.events("render_chunk_generating")]
    assert len(generating) < CHUNKS, generating  # the chunks after the cancel were not made

    next_job = ada.submit(profile_id, singing_wav(stem_s_for(1), seed=6))
    check_done(ada.finished(next_job), chunks=1, context=api_stack.logs)
    assert ada.job(job_id)["status"] == "canceled"


@pytest.mark.slow
def test_a_deleted_job_and_profile_leave_nothing_in_the_object_store(api_stack: Stack):
    """The same over S3 (moto's server), with the real processes: a done job deleted takes its
    stem, output and cached features; its profile deleted takes its clips."""
    api_stack.start_worker()
    ada = api_stack.user()
    profile_id = ada.ready_profile()
    job_id = ada.submit(profile_id, singing_wav(stem_s_for(1), seed=7))
    assert ada.finished(job_id)[-1]["status"] == "done"
    with api_stack.service() as service:
        assert service.store.list(f"users/{ada.id}/jobs/{job_id}/")  # input and output

    assert ada.http.delete(f"/v1/render-jobs/{job_id}").status_code == 204
    assert ada.get(f"/v1/render-jobs/{job_id}").status_code == 404
    assert ada.http.delete(f"/v1/singer-profiles/{profile_id}").status_code == 204
    with api_stack.service() as service:
        assert service.store.list(f"users/{ada.id}/") == []
