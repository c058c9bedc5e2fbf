"""The bad-input corpus (tests/bad_inputs.py) through the HTTP API and the worker's render_job:
upload the bytes through the presigned URL, create the job, let the worker take it. Each valid
stem ends ``done`` with the delivered file; each invalid one ends ``failed`` with its stable code
and a message that names the problem, the producer's upload kept; a normal job then completes
on the same service."""

import io
import uuid

import numpy as np
import pytest
import soundfile as sf

from tests.bad_inputs import AUDIBLE, REFUSED, SILENCE, BadInput, singing_wav
from tests.integration.http_api import as_user, running_api
from tests.integration.test_http_render_jobs import ALICE, ready_profile, uploaded_input
from tests.integration.worker_world import render_to_end


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


def rendered_job(api, data: bytes) -> dict:
    """Upload ``data``, create its job, run the worker on it; the job as GET answers it."""
    prepared = uploaded_input(api, data=data)
    body = {"singer_profile_id": ready_profile(api), "input_object_key": prepared["object_key"]}
    created = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert created.status_code == 201, created.text
    render_to_end(api.service, ALICE, uuid.UUID(prepared["job_id"]))
    job = api.client.get(f"/v1/render-jobs/{prepared['job_id']}", headers=as_user(ALICE))
    assert job.status_code == 200, job.text
    return job.json()


def delivered(api, job: dict) -> tuple[np.ndarray, int]:
    """The done job's output as int16 samples, and its rate."""
    assert (job["status"], job["error"]) == ("done", None), job["error"]
    output = api.service.store.get(job["output_object_key"])
    assert sf.info(io.BytesIO(output)).subtype == "PCM_16"
    return sf.read(io.BytesIO(output), dtype="int16", always_2d=True)


def assert_delivered(api, job: dict) -> None:
    audio, rate_hz = delivered(api, job)
    assert (rate_hz, audio.shape[1]) == (48_000, 2)


@pytest.mark.parametrize("case", AUDIBLE, ids=lambda case: case.name)
def test_a_valid_stem_renders_to_done_at_the_loudness_target(api, case: BadInput):
    job = rendered_job(api, case.data)
    assert_delivered(api, job)
    assert job["metrics"]["loudness_lufs"] == pytest.approx(-18.0, abs=0.5)


def test_silence_renders_to_digital_silence_without_a_loudness_reading(api):
    job = rendered_job(api, SILENCE)
    audio, _ = delivered(api, job)
    assert audio.shape == (96_000, 2) and not audio.any()
    assert (job["metrics"]["loudness_lufs"], job["metrics"]["true_peak_db"]) == (None, None)


@pytest.mark.parametrize("case", REFUSED, ids=lambda case: case.name)
def test_an_invalid_stem_fails_its_job_with_its_code_keeps_the_upload_and_harms_no_other(
    api, case: BadInput
):
    job = rendered_job(api, case.data)

    assert job["status"] == "failed" and job["output_object_key"] is None
    assert job["error"]["code"] == case.outcome
    assert case.says in job["error"]["message"]
    assert "Traceback" not in job["error"]["message"]
    assert api.service.store.get(job["input_object_key"]) == case.data
    assert_delivered(api, rendered_job(api, singing_wav()))
