"""The API's guards over the real processes: the request-rate limit holds across two
``voxregen api`` processes sharing one Redis; a user's active jobs are capped (create and
clone), without holding back another user; and the 401 and 404 of api_keys mode, with keys
made and revoked by the real ``voxregen keys``."""

import subprocess
import time

import httpx

from tests.e2e.stack import VOXREGEN, Stack, free_port, s3_storage_url, singing_wav, wait_for
from tests.integration.http_world import assert_error

RATE_PER_MIN = 30
MAX_ACTIVE = 2


def _stack(fresh_database_url, claimed_redis, s3_endpoint, tmp_path, **env: str) -> Stack:
    return Stack(
        database_url=fresh_database_url,
        redis_url=claimed_redis,
        storage_url=s3_storage_url(s3_endpoint),
        work_dir=tmp_path,
        env=env,
    )


def test_the_rate_limit_holds_across_two_api_processes(
    fresh_database_url, claimed_redis, s3_endpoint, tmp_path
):
    with _stack(
        fresh_database_url,
        claimed_redis,
        s3_endpoint,
        tmp_path,
        VOXREGEN_RATE_LIMIT_PER_MIN=str(RATE_PER_MIN),
    ) as stack:
        stack.start_api()
        second_port = free_port()
        stack.start_api(port=second_port)
        ada, bob = stack.user(), stack.user()
        apis = [stack.base_url, f"http://127.0.0.1:{second_port}"]
        started_s = time.monotonic()
        answers = [ada.http.get(f"{apis[n % 2]}/v1/render-jobs") for n in range(2 * RATE_PER_MIN)]
        elapsed_s = time.monotonic() - started_s

        accepted = [n for n, answer in enumerate(answers) if answer.status_code == 200]
        refused = [answer for answer in answers if answer.status_code != 200]
        refilled = int(elapsed_s * RATE_PER_MIN / 60) + 1
        assert RATE_PER_MIN <= len(accepted) <= RATE_PER_MIN + refilled, (len(accepted), elapsed_s)
        assert accepted[:RATE_PER_MIN] == list(range(RATE_PER_MIN))  # the bucket's burst first
        assert {n % 2 for n in accepted} == {0, 1}  # both processes took from the one bucket
        for answer in refused:
            assert_error(answer, 429, {"rate_limited"})
            assert 1 <= int(answer.headers["retry-after"]) <= 60 / RATE_PER_MIN + 1
        # another user has a bucket of their own
        assert bob.http.get(f"{apis[1]}/v1/render-jobs").status_code == 200


def test_active_jobs_are_capped_per_user_and_keys_guard_every_request(
    fresh_database_url, claimed_redis, s3_endpoint, tmp_path
):
    with _stack(
        fresh_database_url,
        claimed_redis,
        s3_endpoint,
        tmp_path,
        VOXREGEN_MAX_ACTIVE_JOBS_PER_USER=str(MAX_ACTIVE),
    ) as stack:
        stack.start_api()
        worker = stack.start_worker()
        ada, bob = stack.user(), stack.user()
        ada_profile, bob_profile = ada.ready_profile(), bob.ready_profile()
        worker.ask_to_stop()  # the jobs below stay queued for the test's length
        assert worker.terminate() == 0
        stem = singing_wav(3.0)
        first = ada.submit(ada_profile, stem)
        ada.submit(ada_profile, stem)

        upload = ada.uploaded_input(stem)
        body = {"singer_profile_id": ada_profile, "input_object_key": upload["object_key"]}
        over = ada.post("/v1/render-jobs", body)
        assert_error(over, 429, {"too_many_active_jobs"})
        assert int(over.headers["retry-after"]) >= 1
        assert_error(ada.post(f"/v1/render-jobs/{first}:clone", {}), 429, {"too_many_active_jobs"})
        bob.submit(bob_profile, stem)  # Ada's cap is hers alone

        assert ada.post(f"/v1/render-jobs/{first}:cancel").status_code == 200
        assert ada.post("/v1/render-jobs", body).status_code == 201  # a slot freed

        # 404: Bob's key on Ada's job; 401: no key, and Ada's key once revoked
        assert_error(bob.get(f"/v1/render-jobs/{first}"), 404, {"not_found"})
        unauthenticated = httpx.get(f"{stack.base_url}/v1/render-jobs/{first}")
        assert_error(unauthenticated, 401, {"unauthenticated"})
        assert unauthenticated.headers["www-authenticate"] == 'Bearer realm="voxregen"'
        listed = subprocess.run(
            [VOXREGEN, "keys", "list", "--user-id", str(ada.id)],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        key_id = listed.stdout.splitlines()[1].split("\t")[0]
        revoked = subprocess.run(
            [VOXREGEN, "keys", "revoke", key_id],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert revoked.returncode == 0, revoked.stderr
        wait_for(
            lambda: ada.get(f"/v1/render-jobs/{first}").status_code,
            until=lambda status: status == 401,
            what="the revoked key to be refused",
        )
        assert_error(ada.get("/v1/render-jobs"), 401, {"invalid_api_key"})
