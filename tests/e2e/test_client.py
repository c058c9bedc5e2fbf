"""The Python client (voxregen_client) driving the real processes (tests/e2e/stack.py: the
API in api_keys mode, a worker, PostgreSQL, Redis, moto's S3): a producer's whole flow from
local files to a downloaded render (and the stem downloaded back), lists across pages, cancel
and delete, the typed errors, a POST whose answer was lost retried into its first answer, and
the rate limit waited out."""

import threading
import time

import httpx
import pytest
import soundfile as sf

from tests.e2e.stack import (
    STEM_RATE_HZ,
    Stack,
    check_delivered,
    s3_storage_url,
    singing_wav,
    stem_s_for,
)
from tests.integration.worker_world import reference_wav
from voxregen_client import (
    Client,
    ConflictError,
    NotFoundError,
    RetryPolicy,
    UnauthenticatedError,
)

CHUNKS = 3
SECONDS_PER_CHUNK = "0.3"
POLL_S = 0.05
TIMEOUT_S = 60.0


class Recording(httpx.BaseTransport):
    """A real HTTP transport that records each answer's method, path, status and
    Idempotency-Key; with ``lose`` (a method and path), the first answer to that request is
    dropped after the service gave it, as a connection cut at the wrong moment would."""

    def __init__(self, lose: tuple[str, str] | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose = lose
        self.seen: list[tuple[str, str, int, str | None]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        with self._lock:
            self.seen.append(
                (
                    request.method,
                    request.url.path,
                    response.status_code,
                    request.headers.get("Idempotency-Key"),
                )
            )
            if self.lose == (request.method, request.url.path):
                self.lose = None
                raise httpx.ReadError("the answer was lost on the way")
        return response

    def close(self) -> None:
        self.inner.close()


def _monotone(values: list[int]) -> bool:
    return values == sorted(values)


@pytest.mark.slow
def test_a_producer_goes_from_local_files_to_a_downloaded_render_with_the_client(
    api_stack: Stack, tmp_path
):
    api_stack.start_worker(env={"VOXREGEN_STUB_SECONDS_PER_CHUNK": SECONDS_PER_CHUNK})
    ada, bob = api_stack.user(), api_stack.user()
    client = ada.client

    # a profile from a reference clip, the upload followed byte by byte
    reference = ada.file(reference_wav(seconds=4.5, subtype="PCM_24", container="WAVEX"))
    profile = client.profiles.create("Ada, booth takes")
    assert (profile.name, profile.status, profile.references) == (
        "Ada, booth takes",
        "building",
        (),
    )
    sent: list[tuple[int, int]] = []
    ref_id = client.profiles.add_reference(
        profile.id, reference, on_upload_progress=lambda *p: sent.append(p)
    )
    assert sent[-1] == (reference.stat().st_size,) * 2
    ready = client.profiles.wait_ready(profile.id, timeout_s=TIMEOUT_S, poll_s=POLL_S)
    assert ready.status == "ready" and ready.embedding_version is not None
    assert [(ref.id, ref.duration_sec, ref.accepted) for ref in ready.references] == [
        (ref_id, 4.5, True)
    ]

    # a stem rendered, its progress followed to the end, downloaded
    stem = ada.file(singing_wav(stem_s_for(CHUNKS), seed=8), "lead.wav")
    sent.clear()
    job = client.jobs.create(
        stem, profile.id, params={"quality": "draft"}, on_upload_progress=lambda *p: sent.append(p)
    )
    assert (job.status, job.singer_profile_id, job.params["quality"]) == (
        "queued",
        profile.id,
        "draft",
    )
    assert _monotone([done for done, _ in sent]) and sent[-1] == (stem.stat().st_size,) * 2
    seen = []
    done = client.jobs.wait(job.id, on_progress=seen.append, timeout_s=TIMEOUT_S, poll_s=POLL_S)
    assert (done.status, done.error) == ("done", None), api_stack.logs()
    chunks_done = [state.progress.chunks_done for state in seen]
    assert _monotone(chunks_done) and len(set(chunks_done)) > 1, chunks_done
    assert (seen[-1].progress.chunks_done, seen[-1].progress.chunks_total) == (CHUNKS, CHUNKS)
    assert seen[-1] == done and done.metrics["chunks_total"] == CHUNKS
    output = client.jobs.download(job.id, tmp_path / "lead.regen.wav")
    check_delivered(output.read_bytes(), input_frames=sf.info(stem).frames)
    assert sf.info(stem).samplerate == STEM_RATE_HZ
    with pytest.raises(FileExistsError, match="overwrite=True"):
        client.jobs.download(job.id, output)
    output.write_bytes(b"stale")
    client.jobs.download(job.id, output, overwrite=True)
    check_delivered(output.read_bytes(), input_frames=sf.info(stem).frames)
    # and the stem back beside it, byte for byte, as a player of both would fetch it
    received: list[tuple[int, int]] = []
    stem_back = client.jobs.download_input(
        job.id, tmp_path / "lead.input.wav", on_download_progress=lambda *p: received.append(p)
    )
    assert stem_back.read_bytes() == stem.read_bytes()
    assert received[-1] == (stem.stat().st_size,) * 2
    with pytest.raises(FileExistsError, match="overwrite=True"):
        client.jobs.download_input(job.id, stem_back)

    # a clone with other params reuses the stem's features; a POST whose answer was lost is
    # retried under its key and answered the first answer: still one clone
    losing = Recording(lose=("POST", f"/v1/render-jobs/{job.id}:clone"))
    with Client(api_stack.base_url, api_key=ada.api_key, transport=losing) as retrying:
        clone = retrying.jobs.clone(job.id, params={"style": "warm"})
    clones = [entry for entry in losing.seen if entry[1].endswith(":clone")]
    assert [status for _, _, status, _ in clones] == [201, 201] and len(
        {key for *_, key in clones}
    ) == 1
    assert (clone.params["style"], clone.params["quality"]) == ("warm", "draft")
    clone = client.jobs.wait(clone.id, timeout_s=TIMEOUT_S, poll_s=POLL_S)
    assert clone.status == "done" and clone.metrics["feature_cache_hit"] is True

    # lists: every page, newest first, filtered
    extra = [client.profiles.create(f"Ada {n}") for n in range(2)]
    assert client.profiles.page(limit=2).next_cursor is not None
    assert [p.id for p in client.profiles.list(page_size=2)] == [
        extra[1].id,
        extra[0].id,
        profile.id,
    ]
    assert [j.id for j in client.jobs.list(page_size=1)] == [clone.id, job.id]
    assert [j.id for j in client.jobs.list(status="done", singer_profile_id=profile.id)] == [
        clone.id,
        job.id,
    ]

    # cancel and delete
    running = client.jobs.create(ada.file(singing_wav(stem_s_for(4), seed=9)), profile.id)
    assert client.jobs.cancel(running.id).status == "canceled"
    assert client.jobs.wait(running.id, timeout_s=TIMEOUT_S).status == "canceled"
    assert [j.id for j in client.jobs.list(status="canceled")] == [running.id]
    with pytest.raises(ConflictError, match="job_finished") as finished:
        client.jobs.cancel(job.id)
    assert finished.value.status == 409
    client.jobs.delete(running.id)
    client.profiles.delete(extra[0].id)
    with pytest.raises(NotFoundError):
        client.jobs.get(running.id)
    assert [p.id for p in client.profiles.list()] == [extra[1].id, profile.id]

    # typed errors: another user's job is not found, a bad key is refused
    with pytest.raises(NotFoundError, match="not_found") as missing:
        bob.client.jobs.get(job.id)
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(NotFoundError):
        bob.client.jobs.download(job.id, tmp_path / "bob.wav")
    with pytest.raises(NotFoundError):
        bob.client.jobs.download_input(job.id, tmp_path / "bob.wav")
    assert not (tmp_path / "bob.wav").exists()
    stranger = Client(api_stack.base_url, api_key="vxr_" + "x" * 43)
    with stranger, pytest.raises(UnauthenticatedError) as refused:
        stranger.profiles.get(profile.id)
    assert (refused.value.status, refused.value.code) == (401, "invalid_api_key")


RATE_PER_MIN = 30


@pytest.mark.slow
def test_the_client_waits_out_the_rate_limit_and_its_retried_post_creates_one_profile(
    fresh_database_url, claimed_redis, s3_endpoint, tmp_path
):
    with Stack(
        database_url=fresh_database_url,
        redis_url=claimed_redis,
        storage_url=s3_storage_url(s3_endpoint),
        work_dir=tmp_path,
        env={"VOXREGEN_RATE_LIMIT_PER_MIN": str(RATE_PER_MIN)},
    ) as stack:
        stack.start_api()
        ada = stack.user()
        recording = Recording()
        policy = RetryPolicy(max_attempts=10)
        with Client(
            stack.base_url, api_key=ada.api_key, retry=policy, transport=recording
        ) as client:
            while not any(status == 429 for _, _, status, _ in recording.seen):
                client.profiles.page()  # each answered, after a wait once the bucket is empty
            started_s = time.monotonic()
            profile = client.profiles.create("after the limit")
            waited_s = time.monotonic() - started_s
            listed = list(client.profiles.list())
    posts = [entry for entry in recording.seen if entry[0] == "POST"]
    assert [status for _, _, status, _ in posts] == [429, 201], recording.seen
    assert posts[0][3] == posts[1][3]  # one Idempotency-Key for both attempts
    assert waited_s >= 1.0  # Retry-After: whole seconds, a token every 2 s
    assert [p.id for p in listed] == [profile.id]
