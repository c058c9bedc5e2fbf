"""Jobs whose objects the retention sweep deleted, through the real HTTP app over a real service:
the job says when its input and its output went, a clone (which queues nothing) and a download
of the input are 410 ``input_expired``, a download 410 ``output_expired``; an object gone from
the store without a sweep (a storage lifecycle rule) is answered the same way. The sweeper runs with a clock set days ahead.
"""

import uuid
from datetime import UTC, datetime

import attrs
import pytest

from tests.fakes import SetClock
from tests.integration.http_api import as_user, finish_job, new_job_body, running_api
from tests.integration.http_world import assert_error
from tests.signals import sine, wav_bytes
from voxregen_core.messages import RenderJobMessage
from voxregen_core.retention import DAY_S, RetentionPolicy
from voxregen_worker.retention_sweep import RetentionOutcome
from voxregen_worker.sweeper import Sweeper

ALICE = uuid.UUID("a11ce000-0000-4000-8000-0000000000a1")
STEM = wav_bytes(sine(220.0, peak_dbfs=-6.0, duration_s=2.0), subtype="PCM_16")


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


@attrs.frozen
class World:
    job_id: str
    clock: SetClock
    sweeper: Sweeper


def done_job(api) -> World:
    """A done job of Alice's, created over HTTP, and a sweeper whose clock starts now."""
    response = api.client.post(
        "/v1/render-jobs", json=new_job_body(api, ALICE, STEM), headers=as_user(ALICE)
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    finish_job(api.service, ALICE, uuid.UUID(job_id), b"RIFF-output")
    clock = SetClock(datetime.now(UTC))
    sweeper = Sweeper(
        attrs.evolve(api.service, clock=clock),
        stall_timeout_s=300.0,
        job_deadline_s=3600.0,
        feature_cache_max_idle_s=365 * DAY_S,
        retention=RetentionPolicy(),
    )
    return World(job_id=job_id, clock=clock, sweeper=sweeper)


def get(api, job_id: str) -> dict:
    response = api.client.get(f"/v1/render-jobs/{job_id}", headers=as_user(ALICE))
    assert response.status_code == 200, response.text
    return response.json()


def clone(api, job_id: str):
    return api.client.post(
        f"/v1/render-jobs/{job_id}:clone",
        json={"params": {"style": "warm"}},
        headers=as_user(ALICE),
    )


def download(api, job_id: str):
    return api.client.post(f"/v1/render-jobs/{job_id}:download", headers=as_user(ALICE))


def download_input(api, job_id: str):
    return api.client.post(f"/v1/render-jobs/{job_id}:download-input", headers=as_user(ALICE))


def test_a_job_whose_input_then_output_were_swept_says_so_and_refuses_clone_and_download(api):
    world = done_job(api)
    job = get(api, world.job_id)
    assert (job["input_expired_at"], job["output_expired_at"]) == (None, None)
    assert download_input(api, world.job_id).status_code == 200
    queued_before = api.queued()

    world.clock.advance(31 * DAY_S)
    assert world.sweeper.sweep().retention == RetentionOutcome(chunks_expired=1, inputs_expired=1)

    job = get(api, world.job_id)
    assert job["status"] == "done"
    assert job["input_expired_at"] == world.clock.now().isoformat()
    assert job["output_expired_at"] is None
    refused = clone(api, world.job_id)
    assert assert_error(refused, 410, {"input_expired"}) == "input_expired"
    message = refused.json()["error"]["message"]
    assert f"input was deleted on {world.clock.now():%Y-%m-%d}" in message
    assert "upload the stem again" in message
    refused_download = download_input(api, world.job_id)
    assert assert_error(refused_download, 410, {"input_expired"}) == "input_expired"
    assert refused_download.json()["error"]["message"] == message
    assert api.queued() == queued_before  # the refused clone queued nothing
    listed = api.client.get("/v1/render-jobs", headers=as_user(ALICE)).json()["items"]
    assert [item["id"] for item in listed] == [world.job_id]  # and added no job
    assert listed[0] == job
    assert download(api, world.job_id).status_code == 200  # the output is kept 60 days

    world.clock.advance(30 * DAY_S)
    assert world.sweeper.sweep().retention == RetentionOutcome(outputs_expired=1)

    job = get(api, world.job_id)
    assert job["output_expired_at"] == world.clock.now().isoformat()
    refused = download(api, world.job_id)
    assert assert_error(refused, 410, {"output_expired"}) == "output_expired"
    assert "clone the job to render it again" in refused.json()["error"]["message"]


def test_a_clone_shares_its_originals_input_and_its_expiry(api):
    world = done_job(api)
    first = clone(api, world.job_id)
    assert first.status_code == 201, first.text
    clone_id = first.json()["id"]
    finish_job(api.service, ALICE, uuid.UUID(clone_id), b"RIFF-clone-output")

    world.clock.advance(31 * DAY_S)  # the upload's age: the clone's is days less, but shared
    assert world.sweeper.sweep().retention.inputs_expired == 1

    assert get(api, clone_id)["input_expired_at"] == world.clock.now().isoformat()
    assert_error(clone(api, clone_id), 410, {"input_expired"})
    assert_error(download_input(api, clone_id), 410, {"input_expired"})
    assert download(api, clone_id).status_code == 200  # its own output is younger still


def test_an_input_or_output_gone_from_the_store_without_a_sweep_is_410_too(api):
    """A storage lifecycle rule shorter than the service's deletes objects the rows still
    name: a clone and the downloads say so rather than queue a job on nothing or sign a URL to
    nothing."""
    world = done_job(api)
    job = get(api, world.job_id)
    api.service.store.delete(job["input_object_key"])

    refused = clone(api, world.job_id)
    assert_error(refused, 410, {"input_expired"})
    assert "input is no longer stored" in refused.json()["error"]["message"]
    refused = download_input(api, world.job_id)
    assert_error(refused, 410, {"input_expired"})
    assert "input is no longer stored" in refused.json()["error"]["message"]
    queued = [attrs.evolve(message, request_id=None) for message in api.queued()]
    assert queued == [RenderJobMessage(user_id=ALICE, job_id=uuid.UUID(world.job_id))]

    api.service.store.delete(job["output_object_key"])
    refused = download(api, world.job_id)
    assert_error(refused, 410, {"output_expired"})
    assert "output is no longer stored" in refused.json()["error"]["message"]
    assert get(api, world.job_id)["output_expired_at"] is None  # no sweep recorded it
