"""Forged and bent signed URLs against the app's local storage route, /storage/{key}.

tests/integration/test_http_storage.py shows that a URL works for its own method and key and
that the plain forgeries get a 403; tests/unit/test_url_signing.py proves the signature itself.
Here every forgery is tried with both methods and must answer 403 with the JSON error body,
write nothing and read nothing: a tampered or extended grant, another key's signature, the
other method, an expired URL. And an upload URL cannot write anywhere but its own key: not by
dot segments (plain or encoded), encoded or doubled slashes, backslashes, a longer or
differently cased key, nor a second key or grant in the query. Where the request is still the
signed key (its slashes merely encoded), it writes that key and nothing else.
"""

import time
import uuid
from collections.abc import Callable
from urllib.parse import quote

import pytest

from tests.integration.http_api import SIGNING_KEY
from tests.integration.http_world import STORE, assert_error, module_api, snapshot
from voxregen_adapters import url_signing
from voxregen_core.keys import job_output_key, job_upload_key

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
JOB = uuid.UUID("22222222-2222-4222-8222-222222222222")
KEY = job_upload_key(ALICE, JOB)  # what an upload URL writes
OTHER_KEY = job_upload_key(BOB, uuid.UUID("33333333-3333-4333-8333-333333333333"))
STORED = b"RIFF-stored"


@pytest.fixture(scope="module")
def module_world(database_url, redis_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("signed-urls")
    with module_api(database_url, redis_url, folder / STORE) as api:
        yield api, folder


@pytest.fixture
def api(module_world):
    """The module's app, with both keys holding ``STORED`` again."""
    api, _ = module_world
    api.service.store.put(KEY, STORED)
    api.service.store.put(OTHER_KEY, STORED)
    return api


@pytest.fixture
def folder(module_world):
    return module_world[1]


def grant(method: str, key: str = KEY, *, expires_at_s: int | None = None) -> dict[str, str]:
    expires_at_s = int(time.time()) + 600 if expires_at_s is None else expires_at_s
    signature = url_signing.sign(
        method=method, key=key, expires_at_s=expires_at_s, signing_key=SIGNING_KEY.encode()
    )
    return {"expires": str(expires_at_s), "signature": signature}


def url(path_key: str, query: dict[str, str] | str) -> str:
    """``/storage/{path_key}?{query}``; ``path_key`` is sent as written (already quoted)."""
    if isinstance(query, dict):
        query = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/storage/{path_key}?{query}"


def _flip(signature: str) -> str:
    return signature[:-1] + ("1" if signature[-1] != "1" else "2")


# (method) -> the forged URL for a request of that method on KEY
FORGERIES: dict[str, Callable[[str], str]] = {
    "tampered": lambda m: url(KEY, grant(m) | {"signature": _flip(grant(m)["signature"])}),
    "extended": lambda m: url(KEY, grant(m) | {"expires": str(int(time.time()) + 7200)}),
    "other_keys_signature": lambda m: url(KEY, grant(m, OTHER_KEY)),
    "other_method": lambda m: url(KEY, grant("GET" if m == "PUT" else "PUT")),
    "expired": lambda m: url(KEY, grant(m, expires_at_s=int(time.time()) - 1)),
    "expires_now": lambda m: url(KEY, grant(m, expires_at_s=int(time.time()))),
    "other_secret": lambda m: url(
        KEY,
        grant(m)
        | {
            "signature": url_signing.sign(
                method=m, key=KEY, expires_at_s=int(time.time()) + 600, signing_key=bytes(32)
            )
        },
    ),
    "uppercase_signature": lambda m: url(
        KEY, grant(m) | {"signature": grant(m)["signature"].upper()}
    ),
    "signature_twice": lambda m: url(KEY, grant(m) | {"signature": grant(m)["signature"] * 2}),
}


@pytest.mark.parametrize("method", url_signing.METHODS)
@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_url_is_a_403_that_reads_and_writes_nothing(api, folder, forgery, method):
    before = snapshot(api, folder)
    response = api.client.request(method, FORGERIES[forgery](method), content=b"RIFF-evil")
    assert_error(response, 403, {"forbidden"})
    assert STORED not in response.content
    assert snapshot(api, folder) == before


def test_head_and_other_methods_are_refused(api):
    head = api.client.head(url(KEY, grant("GET")))
    assert head.status_code == 403 and head.content == b""
    for method in ("POST", "DELETE", "PATCH"):
        assert_error(api.client.request(method, url(KEY, grant("PUT"))), 405)


# A PUT URL for KEY bent to name another path: (label, path as sent).
_JOBS, _INPUT = f"users/{ALICE}/jobs", f"users/{ALICE}/jobs/{JOB}"
OUTSIDE = {
    "dot_segments_encoded": f"{_INPUT}/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "dot_segments_into_other_user": f"{_INPUT}/%2E%2E/%2E%2E/%2E%2E/{OTHER_KEY}",
    "encoded_traversal_key": quote(f"{KEY}/../../{JOB}/output.wav", safe=""),
    "doubled_slash": KEY.replace("/jobs/", "/jobs//"),
    "backslashes": KEY.replace("/", "%5C"),
    "longer_key": KEY + ".wav",
    "key_as_folder": KEY + "/x.wav",
    "nul_suffix": KEY + "%00.txt",
    "uppercase_uuid": KEY.replace(str(ALICE), str(ALICE).upper()),
    "output_of_the_job": job_output_key(ALICE, JOB),
    "absolute": "%2Fetc%2Fpasswd",
}


@pytest.mark.parametrize("label", OUTSIDE)
def test_an_upload_url_cannot_write_outside_its_key(api, folder, label):
    before = snapshot(api, folder)
    response = api.client.put(url(OUTSIDE[label], grant("PUT")), content=b"RIFF-evil")
    assert response.status_code in (403, 404), response.text
    assert_error(response, response.status_code, {"forbidden", "not_found"})
    assert snapshot(api, folder) == before


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda g: g | {"key": OTHER_KEY}, id="second_key"),
        pytest.param(lambda g: g | {"path": f"../../{OTHER_KEY}"}, id="second_path"),
        pytest.param(
            lambda g: "&".join(
                [f"expires={g['expires']}", f"signature={g['signature']}"]
                + [f"expires={grant('PUT', OTHER_KEY)['expires']}"]
            ),
            id="expires_twice",
        ),
    ],
)
def test_extra_query_fields_write_only_the_signed_key(api, folder, query):
    before = snapshot(api, folder)
    response = api.client.put(url(KEY, query(grant("PUT"))), content=b"RIFF-new")
    assert response.status_code == 204, response.text
    assert api.service.store.get(KEY) == b"RIFF-new"
    after = snapshot(api, folder)
    assert {path for path in after.files if after.files[path] != before.files.get(path)} == {
        f"{STORE}/{KEY}"
    }


# Other spellings of KEY itself: the client or the server may resolve them to KEY (httpx drops
# dot segments, the test client decodes twice), or leave them another key (403).
SPELLINGS = {
    "encoded_slashes": quote(KEY, safe=""),
    "double_encoded_slashes": KEY.replace("/", "%252F"),
    "dot_segments_plain": f"{_JOBS}/x/../{JOB}/upload.wav",
    "dot_segment_inside": KEY.replace("/jobs/", "/./jobs/"),
}


@pytest.mark.parametrize("label", SPELLINGS)
def test_another_spelling_of_the_key_writes_that_key_or_nothing(api, folder, label):
    before = snapshot(api, folder)
    response = api.client.put(url(SPELLINGS[label], grant("PUT")), content=b"RIFF-new")
    after = snapshot(api, folder)
    changed = {path for path in after.files if after.files[path] != before.files.get(path)}
    if response.status_code == 204:
        assert changed == {f"{STORE}/{KEY}"}
        assert api.service.store.get(KEY) == b"RIFF-new"
    else:
        assert_error(response, 403, {"forbidden"})
        assert changed == set()


def test_a_signature_is_bound_to_its_key(api):
    """The store's own URL, moved to the other user's key, is refused; back on its key, it
    works."""
    presigned = api.service.store.presigned_get_url(KEY, expires_s=600)
    moved = presigned.replace(KEY, OTHER_KEY)
    assert moved != presigned
    assert_error(api.client.get(moved), 403, {"forbidden"})
    assert api.client.get(presigned).content == STORED
