"""The whole flow over HTTP against the real processes: a producer creates a singer profile,
uploads a reference, uploads a stem, renders it while watching its progress, downloads the
delivered file, and re-renders it with other params; another user can reach none of it."""

import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
import sqlalchemy as sa

from tests.e2e.conftest import Stack
from tests.integration.worker_world import reference_wav
from tests.meters import ffmpeg_ebur128
from tests.signals import synthetic_singing, wav_bytes, with_consonants

STEM_RATE_HZ = 44_100
STEM_S = 90.0
"""Six chunks (18 s chunks on a 16 s stride): the worker takes ~30 ms a chunk here, so with
three the job passed through 1 and 2 chunks done in ~50 ms, too short to be seen surely."""
POLL_S = 0.02
WAIT_TIMEOUT_S = 30.0


def _stem() -> np.ndarray:
    """(n, 2) float64, 44.1 kHz: synthetic singing with consonants, peaking at -0.9 dBFS,
    its right channel quieter than its left."""
    mono = synthetic_singing(STEM_S, seed=11, fs=STEM_RATE_HZ).audio
    mono = with_consonants(mono, seed=11, fs=STEM_RATE_HZ)
    mono = mono * 0.9 / np.max(np.abs(mono))
    return np.stack([mono, 0.8 * mono], axis=1)


class User:
    """One user's HTTP client: every request carries their ``X-User-Id``."""

    def __init__(self, base_url: str) -> None:
        self.id = uuid.uuid4()
        self.http = httpx.Client(
            base_url=base_url, headers={"X-User-Id": str(self.id)}, timeout=10.0
        )

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def ready_profile(self) -> str:
        """A new profile of this user's, built from one uploaded reference; its id."""
        created = self.post("/v1/singer-profiles", {"name": "Ada"})
        assert created.status_code == 201, created.text
        profile_id = created.json()["id"]
        upload = self.post(f"/v1/singer-profiles/{profile_id}/references:prepare-upload")
        assert upload.status_code == 200, upload.text
        _put(upload.json()["upload_url"], reference_wav())
        committed = self.post(
            f"/v1/singer-profiles/{profile_id}/references:commit",
            {
                "ref_id": upload.json()["ref_id"],
                "object_key": upload.json()["object_key"],
                "duration_sec": 4.0,
            },
        )
        assert committed.status_code == 202, committed.text
        profile = _poll(
            lambda: self.get(f"/v1/singer-profiles/{profile_id}").json(),
            until=lambda profile: profile["status"] != "building",
        )[-1]
        assert profile["status"] == "ready", profile
        return profile_id

    def uploaded_input(self, data: bytes) -> dict[str, Any]:
        """render-jobs:prepare-upload's answer, ``data`` uploaded to its URL."""
        upload = self.post("/v1/render-jobs:prepare-upload")
        assert upload.status_code == 200, upload.text
        _put(upload.json()["upload_url"], data)
        return upload.json()

    def finished(self, job_id: str) -> list[dict[str, Any]]:
        """Every state of the job seen, polling every ``POLL_S``, until it is done or failed."""
        return _poll(
            lambda: self.get(f"/v1/render-jobs/{job_id}").json(),
            until=lambda job: job["status"] in ("done", "failed"),
        )


def _put(url: str, data: bytes) -> None:
    response = httpx.put(url, content=data, timeout=10.0)
    assert response.status_code == 200, response.text


def _poll(read: Callable[[], dict], *, until: Callable[[dict], bool]) -> list[dict]:
    seen = [read()]
    deadline_s = time.monotonic() + WAIT_TIMEOUT_S
    while not until(seen[-1]):
        assert time.monotonic() < deadline_s, f"still waiting after {WAIT_TIMEOUT_S} s: {seen[-1]}"
        time.sleep(POLL_S)
        seen.append(read())
    return seen


def _check_delivered(wav: bytes, *, input_frames: int) -> None:
    """48 kHz, 16-bit, two identical channels, the input's duration, -18 LUFS and at most
    -1 dBTP on the independent meter."""
    info = sf.info(io.BytesIO(wav))
    assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2)
    audio, _ = sf.read(io.BytesIO(wav), dtype="int16")
    assert np.array_equal(audio[:, 0], audio[:, 1])
    assert abs(len(audio) - input_frames * 48_000 / STEM_RATE_HZ) <= 1.0
    reading = ffmpeg_ebur128(wav)
    assert reading.integrated_lufs == pytest.approx(-18.0, abs=0.1)
    assert reading.true_peak_dbtp <= -1.0


def _row_count(stack: Stack, table: str) -> int:
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture
def users(stack) -> Iterator[tuple[User, User]]:
    ada, bob = User(stack.base_url), User(stack.base_url)
    yield ada, bob
    ada.close()
    bob.close()


@pytest.mark.slow
def test_the_whole_flow_over_http_and_no_other_user_reaches_any_of_it(stack, users):
    ada, bob = users
    profile_id = ada.ready_profile()
    stem = _stem()
    upload = ada.uploaded_input(wav_bytes(stem, fs=STEM_RATE_HZ, subtype="PCM_24"))

    created = ada.post(
        "/v1/render-jobs",
        {"singer_profile_id": profile_id, "input_object_key": upload["object_key"]},
    )
    assert created.status_code == 201, created.text
    assert (created.json()["id"], created.json()["status"]) == (upload["job_id"], "queued")
    job_id = upload["job_id"]
    states = ada.finished(job_id)
    job = states[-1]
    assert job["status"] == "done", f"{job}\n{stack.logs()}"
    assert job["progress"] == {"chunks_done": 6, "chunks_total": 6}
    assert job["metrics"]["chunks_total"] == 6
    assert job["metrics"]["feature_cache_hit"] is False
    midway = [
        state["progress"]
        for state in states
        if 0 < state["progress"]["chunks_done"] < state["progress"]["chunks_total"]
    ]
    assert midway, f"no progress seen between 0 and chunks_total: {[s['progress'] for s in states]}"

    download = ada.post(f"/v1/render-jobs/{job_id}:download")
    assert download.status_code == 200, download.text
    delivered = httpx.get(download.json()["download_url"], timeout=10.0)
    assert delivered.status_code == 200
    _check_delivered(delivered.content, input_frames=len(stem))

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
