"""The local object store's presigned URLs, served by the app at /storage/{key}: a URL works
for its own method and key until it expires, and nothing else gets through (403); a PUT writes
an upload key only, and only until a job or reference takes the upload."""

import os
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.http_api import SIGNING_KEY, running_api
from voxregen_adapters import url_signing
from voxregen_core.keys import job_input_key, job_output_key, job_upload_key

USER = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
JOB = uuid.UUID("22222222-2222-4222-8222-222222222222")
KEY = job_upload_key(USER, JOB)


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


def signed(method: str, key: str = KEY, *, expires_at_s: int | None = None) -> str:
    expires_at_s = int(time.time()) + 60 if expires_at_s is None else expires_at_s
    return url_signing.signed_url(
        "http://testserver",
        method=method,
        key=key,
        expires_at_s=expires_at_s,
        signing_key=SIGNING_KEY.encode(),
    )


def test_a_put_url_stores_the_body_and_a_get_url_reads_it(api):
    put = api.client.put(api.service.store.presigned_put_url(KEY, expires_s=60), content=b"RIFF1")
    assert (put.status_code, put.content) == (204, b"")
    assert api.service.store.get(KEY) == b"RIFF1"
    got = api.client.get(api.service.store.presigned_get_url(KEY, expires_s=60))
    assert (got.status_code, got.content, got.headers["content-type"]) == (
        200,
        b"RIFF1",
        "audio/wav",
    )


def test_a_put_to_a_key_that_takes_no_upload_is_a_422_and_stores_nothing(api):
    for key in (job_input_key(USER, JOB), job_output_key(USER, JOB)):
        response = api.client.put(
            api.service.store.presigned_put_url(key, expires_s=60), content=b"x"
        )
        assert (response.status_code, response.json()["error"]["code"]) == (422, "invalid_key")
        assert not api.service.store.exists(key)


def test_a_put_after_the_upload_was_taken_is_a_409_and_changes_nothing(api):
    url = api.service.store.presigned_put_url(KEY, expires_s=60)
    assert api.client.put(url, content=b"RIFF1").status_code == 204
    assert api.client.put(url, content=b"RIFF2").status_code == 204  # not taken: replaced
    api.service.store.move(KEY, job_input_key(USER, JOB))  # what creating the job does
    response = api.client.put(url, content=b"RIFF3")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "upload_sealed")
    assert api.service.store.get(job_input_key(USER, JOB)) == b"RIFF2"
    assert not api.service.store.exists(KEY)


def test_a_url_is_refused_for_the_other_method(api):
    api.service.store.put(KEY, b"RIFF1")
    assert api.client.put(signed("GET"), content=b"evil").status_code == 403
    assert api.client.get(signed("PUT")).status_code == 403
    assert api.service.store.get(KEY) == b"RIFF1"


def test_a_url_is_refused_for_another_key(api):
    url = signed("PUT").replace(str(JOB), str(uuid.uuid4()))
    response = api.client.put(url, content=b"x")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_an_expired_url_is_refused(api):
    response = api.client.put(signed("PUT", expires_at_s=int(time.time()) - 1), content=b"x")
    assert response.status_code == 403
    assert not api.service.store.exists(KEY)


@pytest.mark.parametrize(
    "query",
    ["", "?expires=9999999999", "?signature=" + "0" * 64, "?expires=abc&signature=" + "0" * 64],
)
def test_a_url_without_a_valid_grant_is_refused(api, query):
    assert api.client.put(f"/storage/{KEY}{query}", content=b"x").status_code == 403
    assert api.client.get(f"/storage/{KEY}{query}").status_code == 403


def test_a_tampered_signature_is_refused(api):
    url = signed("GET")
    parts = urlsplit(url)
    signature = parse_qs(parts.query)["signature"][0]
    tampered = url.replace(signature, ("1" if signature[0] != "1" else "2") + signature[1:])
    assert api.client.get(tampered).status_code == 403


def test_a_get_of_a_missing_object_is_a_404(api):
    response = api.client.get(signed("GET", job_output_key(USER, JOB)))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "object_not_found")


def test_a_put_over_the_size_limit_is_a_413_and_stores_nothing(api, monkeypatch):
    monkeypatch.setattr("voxregen_http.routes.storage.MAX_UPLOAD_BYTES", 4)
    response = api.client.put(signed("PUT"), content=b"RIFF+")
    assert (response.status_code, response.json()["error"]["code"]) == (413, "upload_too_large")
    assert not api.service.store.exists(KEY)


def test_a_get_streams_a_large_object_with_its_length(api):
    data = b"RIFF" + os.urandom(5 << 20)  # several of the route's 1 MiB pieces
    api.service.store.put(KEY, data)
    got = api.client.get(signed("GET"))
    assert (got.status_code, got.headers["content-length"]) == (200, str(len(data)))
    assert got.content == data


def test_a_chunked_put_is_stored_as_it_arrives_whole(api):
    pieces = [b"RIFF", *(os.urandom(700_000) for _ in range(5)), b"end"]  # crosses 1 MiB pieces
    response = api.client.put(signed("PUT"), content=iter(pieces))  # no Content-Length
    assert response.status_code == 204
    assert api.service.store.get(KEY) == b"".join(pieces)


def test_a_chunked_put_that_passes_the_limit_is_a_413_and_keeps_the_earlier_upload(
    api, monkeypatch
):
    assert api.client.put(signed("PUT"), content=b"RIFF-earlier").status_code == 204
    monkeypatch.setattr("voxregen_http.routes.storage.MAX_UPLOAD_BYTES", 3 << 20)
    pieces = (os.urandom(1 << 19) for _ in range(8))  # 4 MiB, with no Content-Length
    response = api.client.put(signed("PUT"), content=pieces)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "upload_too_large")
    assert api.service.store.get(KEY) == b"RIFF-earlier"
    assert api.service.store.list(f"users/{USER}/") == [KEY]


def test_a_key_with_a_line_break_is_no_storage_route(api):
    response = api.client.put("/storage/users%0Ax.wav?expires=1&signature=0", content=b"x")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
