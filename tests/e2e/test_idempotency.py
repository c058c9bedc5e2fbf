"""Duplicate POSTs under concurrency, against the real API process: eight clients send the
same clone at once with one ``Idempotency-Key`` (a client whose answer was lost, retrying on
several connections). Exactly one job is created; every answer is that job (the first, or its
replay) or 409 ``idempotency_key_in_use`` while it was being answered; a retry afterwards is
the replay."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.stack import Stack, singing_wav, stem_s_for


@pytest.mark.slow
def test_the_same_clone_sent_eight_times_at_once_creates_one_job(stack: Stack):
    ada = stack.user()
    original = ada.submit(ada.ready_profile(), singing_wav(stem_s_for(1), seed=4))
    ada.finished(original)
    path = f"/v1/render-jobs/{original}:clone"
    headers = {"Idempotency-Key": "clone-once"}

    def send(_: int):
        return ada.http.post(path, json={"params": {"style": "warm"}}, headers=headers)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(8)))

    created = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    busy = [answer for answer in answers if answer.status_code == 409]
    assert len(created) == 1, [answer.text for answer in answers]
    assert all(answer.json()["error"]["code"] == "idempotency_key_in_use" for answer in busy)
    assert len(busy) + sum(answer.status_code == 201 for answer in answers) == 8
    listed = ada.get("/v1/render-jobs").json()["items"]
    assert sorted(job["id"] for job in listed) == sorted([original, *created])
    retry = send(0)
    assert (retry.status_code, retry.json()["id"]) == (201, *created)
    assert retry.headers["idempotent-replayed"] == "true"
    assert ada.finished(*created)[-1]["status"] == "done", stack.logs()
