"""The whole flow over HTTP against the real processes: a producer creates a singer profile,
uploads a reference, uploads a stem, renders it while watching its progress, downloads the
delivered file, and re-renders it with other params; another user can reach none of it."""

import uuid

import numpy as np
import pytest
import sqlalchemy as sa

from tests.e2e.stack import STEM_RATE_HZ, Stack, check_delivered, stem_s_for
from tests.signals import synthetic_singing, wav_bytes, with_consonants

CHUNKS = 6
"""The worker takes ~30 ms a chunk here, so with three the job passed through 1 and 2 chunks
done in ~50 ms, too short to be seen surely."""
STEM_S = stem_s_for(CHUNKS)
POLL_S = 0.02
"""Faster than the harness's default, so that the job is surely seen midway."""


def _stem() -> np.ndarray:
    """(n, 2) float64, 44.1 kHz: synthetic singing with consonants, peaking at -0.9 dBFS,
    its right channel quieter than its left."""
    mono = synthetic_singing(STEM_S, seed=11, fs=STEM_RATE_HZ).audio
    mono = with_consonants(mono, seed=11, fs=STEM_RATE_HZ)
    mono = mono * 0.9 / np.max(np.abs(mono))
    return np.stack([mono, 0.8 * mono], axis=1)


def _row_count(stack: Stack, table: str) -> int:
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_whole_flow_over_http_and_no_other_user_reaches_any_of_it(stack):
    ada, bob = stack.user(), stack.user()
    profile_id = ada.ready_profile()
    stem = _stem()
    upload = ada.uploaded_input(wav_bytes(stem, fs=STEM_RATE_HZ, subtype="PCM_24"))

    created = ada.create_job(profile_id, upload["object_key"])
    assert (created["id"], created["status"]) == (upload["job_id"], "queued")
    job_id = upload["job_id"]
    states = ada.finished(job_id, poll_s=POLL_S)
    job = states[-1]
    assert job["status"] == "done", f"{job}\n{stack.logs()}"
    assert job["progress"] == {"chunks_done": CHUNKS, "chunks_total": CHUNKS}
    assert job["metrics"]["chunks_total"] == CHUNKS
    assert job["metrics"]["feature_cache_hit"] is False
    midway = [
        state["progress"]
        for state in states
        if 0 < state["progress"]["chunks_done"] < state["progress"]["chunks_total"]
    ]
    assert midway, f"no progress seen between 0 and chunks_total: {[s['progress'] for s in states]}"

    check_delivered(ada.download(job_id), input_frames=len(stem))

    ada_before = (ada.get(f"/v1/singer-profiles/{profile_id}").json(), job)
    bob_profile_id = bob.ready_profile()
    bob_upload = bob.uploaded_input(wav_bytes(stem[: STEM_RATE_HZ * 2], fs=STEM_RATE_HZ))
    not_found = bob.get(f"/v1/render-jobs/{uuid.uuid4()}").json()["error"]["code"]
    never_uploaded = bob.post(
        "/v1/render-jobs",
        {
            "singer_profile_id": bob_profile_id,
            "input_object_key": bob.post("/v1/render-jobs:prepare-upload").json()["object_key"],
        },
    )
    assert never_uploaded.status_code == 404
    attempts = {
        "GET profile": bob.get(f"/v1/singer-profiles/{profile_id}"),
        "prepare-upload": bob.post(f"/v1/singer-profiles/{profile_id}/references:prepare-upload"),
        "commit": bob.post(
            f"/v1/singer-profiles/{profile_id}/references:commit",
            {
                "ref_id": ada_before[0]["references"][0]["id"],
                "object_key": ada_before[0]["references"][0]["object_key"],
                "duration_sec": 4.0,
            },
        ),
        "GET job": bob.get(f"/v1/render-jobs/{job_id}"),
        ":download": bob.post(f"/v1/render-jobs/{job_id}:download"),
        ":clone": bob.post(f"/v1/render-jobs/{job_id}:clone", {"params": {"style": "bright"}}),
        "job on Ada's input": bob.post(
            "/v1/render-jobs",
            {"singer_profile_id": bob_profile_id, "input_object_key": upload["object_key"]},
        ),
        "job on Ada's profile": bob.post(
            "/v1/render-jobs",
            {"singer_profile_id": profile_id, "input_object_key": bob_upload["object_key"]},
        ),
    }
    answers = {name: (r.status_code, r.json()["error"]["code"]) for name, r in attempts.items()}
    assert answers == {name: (404, not_found) for name in attempts} | {
        "job on Ada's input": (404, never_uploaded.json()["error"]["code"])
    }
    assert (
        ada.get(f"/v1/singer-profiles/{profile_id}").json(),
        ada.get(f"/v1/render-jobs/{job_id}").json(),
    ) == ada_before
    assert (_row_count(stack, "render_jobs"), _row_count(stack, "singer_references")) == (1, 2)

    clone = ada.post(f"/v1/render-jobs/{job_id}:clone", {"params": {"style": "bright"}})
    assert clone.status_code == 201, clone.text
    assert clone.json()["id"] != job_id
    assert clone.json()["params"] == job["params"] | {"style": "bright"}
    cloned = ada.finished(clone.json()["id"])[-1]
    assert cloned["status"] == "done", f"{cloned}\n{stack.logs()}"
    assert cloned["metrics"]["feature_cache_hit"] is True
    assert cloned["stem_feature_cache_id"] == job["stem_feature_cache_id"] is not None
    assert _row_count(stack, "stem_feature_cache") == 1
