"""Hostile requests against the real app: every text field of every endpoint (path ids, body
fields, params, object keys, the X-User-Id header, the storage URL's key and query) filled with
SQL, path traversal (plain, URL-encoded, double-encoded, with a NUL byte, into another user's
keys), 10,000-character and empty strings; oversize bodies; malformed JSON; JSON that is not an
object; wrong content types.

Each answer is a 4xx with the JSON error body and a stable code, never a 5xx; afterwards every
table holds exactly the rows it held (only a profile name is free text: there such a string is
a legitimate name, stored and read back verbatim), and no file was written anywhere below the
test's folder, inside the storage root or out of it.

One app and database for the module (the attacks change nothing, which each case checks).
"""

import json
import uuid
from collections.abc import Callable
from urllib.parse import quote

import pytest

from tests.integration.http_api import build_profile, running_api
from tests.integration.http_world import STORE, World, assert_error, module_api, seed_user, snapshot
from voxregen_core.keys import job_upload_key
from voxregen_core.use_cases.uploads import MAX_UPLOAD_BYTES
from voxregen_http.bodies import MAX_JSON_BODY_BYTES

ATTACKER = uuid.UUID("3a77ac6e-0000-4000-8000-00000000000e")
VICTIM = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
UNTAKEN_JOB = uuid.UUID("0b1e0000-0000-4000-8000-0000000000aa")
STABLE_CODES = {
    "malformed_json",
    "unauthenticated",
    "forbidden",
    "not_found",
    "object_not_found",
    "method_not_allowed",
    "body_too_large",
    "upload_too_large",
    "unsupported_media_type",
    "invalid_body",
    "invalid_key",
}

HOSTILE = {
    "sql_drop": "'; DROP TABLE render_jobs; --",
    "sql_or": "' OR '1'='1",
    "sql_union": 'x" UNION SELECT user_id FROM singer_profiles --',
    "traversal": "../../etc/passwd",
    "traversal_other_user": "users/{victim.user_id}/jobs/{victim.job_id}/output.wav",
    "traversal_out_of_own": "users/{attacker.user_id}/jobs/{attacker.job_id}/../../../"
    "{victim.user_id}/jobs/{victim.job_id}/output.wav",
    "encoded": "..%2F..%2Fetc%2Fpasswd",
    "double_encoded": "%252e%252e%252fetc%252fpasswd",
    "nul": "users/{attacker.user_id}/jobs/{attacker.pending_job_id}/input.wav\x00.txt",
    "long": "n" * 10_000,
    "empty": "",
    "unicode": "\u202egnp.exe\ufeff",
}
"""Hostile strings; ``{attacker.…}`` and ``{victim.…}`` name the two users' real ids."""


@pytest.fixture(scope="module")
def world(database_url, redis_url, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    with module_api(database_url, redis_url, folder / STORE) as api:
        yield api, folder, seed_user(api, ATTACKER), seed_user(api, VICTIM)


def _open_upload(user: World) -> str:
    """An upload key of ``user``'s that no request here takes (createRenderJob takes the pending
    input's): a PUT URL for it stays open."""
    return job_upload_key(user.user_id, UNTAKEN_JOB)


def _signed(api, method: str, key: str) -> str:
    """The store's presigned URL for ``method`` on ``key``, as a path for the test client."""
    presign = (
        api.service.store.presigned_get_url
        if method == "GET"
        else api.service.store.presigned_put_url
    )
    return presign(key, expires_s=600).removeprefix("http://testserver")


# A valid request per operation, by the attacker for their own things: (method, path, body).
OPERATIONS: dict[str, Callable[..., tuple[str, str, dict | None]]] = {
    "createSingerProfile": lambda api, w: ("POST", "/v1/singer-profiles", {"name": "Alto"}),
    "getSingerProfile": lambda api, w: ("GET", f"/v1/singer-profiles/{w.profile_id}", None),
    "prepareReferenceUpload": lambda api, w: (
        "POST",
        f"/v1/singer-profiles/{w.profile_id}/references:prepare-upload",
        None,
    ),
    "commitReference": lambda api, w: (
        "POST",
        f"/v1/singer-profiles/{w.profile_id}/references:commit",
        {
            "ref_id": w.pending_reference_id,
            "object_key": w.pending_reference_key,
            "duration_sec": 12.5,
        },
    ),
    "prepareRenderInputUpload": lambda api, w: ("POST", "/v1/render-jobs:prepare-upload", None),
    "createRenderJob": lambda api, w: (
        "POST",
        "/v1/render-jobs",
        {
            "singer_profile_id": w.profile_id,
            "input_object_key": w.pending_input_key,
            "params": {"style": "natural", "quality": "standard", "output_format": "wav16"},
        },
    ),
    "getRenderJob": lambda api, w: ("GET", f"/v1/render-jobs/{w.job_id}", None),
    "downloadRenderJob": lambda api, w: ("POST", f"/v1/render-jobs/{w.job_id}:download", None),
    "cloneRenderJob": lambda api, w: (
        "POST",
        f"/v1/render-jobs/{w.job_id}:clone",
        {"params": {"style": "warm"}},
    ),
    "getStoredObject": lambda api, w: ("GET", _signed(api, "GET", w.output_key), None),
    "putStoredObject": lambda api, w: ("PUT", _signed(api, "PUT", _open_upload(w)), None),
}
V1 = [name for name in OPERATIONS if name not in ("getStoredObject", "putStoredObject")]

# Where a hostile value goes: (operation, field). Fields: "header", "path:<id>" (the segment
# holding that id), "query:<name>", "body:<member>" ("body:params.style"), "body:<new member>"
# (a member the body does not have: its name is the hostile value), "storage-key".
TARGETS = [
    *((operation, "header") for operation in V1),
    ("getSingerProfile", "path:profile_id"),
    ("prepareReferenceUpload", "path:profile_id"),
    ("commitReference", "path:profile_id"),
    ("getRenderJob", "path:job_id"),
    ("downloadRenderJob", "path:job_id"),
    ("cloneRenderJob", "path:job_id"),
    ("createSingerProfile", "body:name"),
    ("createSingerProfile", "body:+"),
    ("commitReference", "body:ref_id"),
    ("commitReference", "body:object_key"),
    ("commitReference", "body:duration_sec"),
    ("createRenderJob", "body:singer_profile_id"),
    ("createRenderJob", "body:input_object_key"),
    ("createRenderJob", "body:params.style"),
    ("createRenderJob", "body:params.quality"),
    ("createRenderJob", "body:params.output_format"),
    ("createRenderJob", "body:params.+"),
    ("cloneRenderJob", "body:params.style"),
    ("cloneRenderJob", "body:+"),
    ("getStoredObject", "storage-key"),
    ("putStoredObject", "storage-key"),
    ("getStoredObject", "query:expires"),
    ("putStoredObject", "query:signature"),
]


def hostile_request(api, attacker: World, operation: str, field: str, value: str) -> dict:
    """The attacker's valid request for ``operation`` with ``value`` put into ``field``."""
    method, path, body = OPERATIONS[operation](api, attacker)
    headers = {**attacker.headers(), "Content-Type": "application/json"}
    kind, _, name = field.partition(":")
    if kind == "header":
        headers["X-User-Id"] = value.encode("utf-8")
    elif kind == "path":
        path = path.replace(getattr(attacker, name), quote(value, safe=""))
    elif kind == "storage-key":
        route, _, query = path.partition("?")
        path = f"/storage/{quote(value, safe='')}?{query}"
    elif kind == "query":
        route, _, query = path.partition("?")
        params = dict(part.split("=", 1) for part in query.split("&"))
        path = f"{route}?" + "&".join(
            f"{k}={quote(value, safe='') if k == name else v}" for k, v in params.items()
        )
    else:
        *parents, member = name.split(".")
        target = body
        for parent in parents:
            target = target[parent]
        target[value if member == "+" else member] = value
    return {"method": method, "url": path, "headers": headers, "json": body}


def test_each_request_unbent_succeeds(fresh_database_url, redis_url, tmp_path):
    """So each refusal below is the hostile value's doing."""
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        attacker = seed_user(api, ATTACKER)
        for operation, request in OPERATIONS.items():
            method, path, body = request(api, attacker)
            payload = {"content": b"RIFF"} if body is None else {"json": body}
            response = api.client.request(method, path, headers=attacker.headers(), **payload)
            assert 200 <= response.status_code < 300, (operation, response.text)
            build_profile(api.service, ATTACKER, uuid.UUID(attacker.profile_id))  # after a commit


def _cases():
    for operation, field in TARGETS:
        for label in HOSTILE:
            yield pytest.param(operation, field, label, id=f"{operation}-{field}-{label}")


@pytest.mark.parametrize(("operation", "field", "label"), list(_cases()))
def test_a_hostile_string_in_any_field_is_refused_and_changes_nothing(
    world, operation, field, label
):
    api, folder, attacker, victim = world
    value = HOSTILE[label].format(attacker=attacker, victim=victim)
    before = snapshot(api, folder)
    request = hostile_request(api, attacker, operation, field, value)
    if operation == "putStoredObject":
        request = {**request, "content": b"RIFF-evil"}
        del request["json"]
    response = api.client.request(**request)

    if field == "body:name" and response.status_code == 201:
        # Free text: SQL or a path is a legitimate name, stored as data and read back as sent.
        profile_id = response.json()["id"]
        read = api.client.get(f"/v1/singer-profiles/{profile_id}", headers=attacker.headers())
        assert read.json()["name"] == value
        after = snapshot(api, folder)
        assert after.files == before.files
        assert {k: v for k, v in after.rows.items() if k != "singer_profiles"} == {
            k: v for k, v in before.rows.items() if k != "singer_profiles"
        }
        assert len(after.rows["singer_profiles"]) == len(before.rows["singer_profiles"]) + 1
        return
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert_error(response, response.status_code, STABLE_CODES)
    assert snapshot(api, folder) == before


def test_sql_in_a_profile_name_is_only_a_name(world):
    api, folder, attacker, _ = world
    name = HOSTILE["sql_drop"]
    created = api.client.post(
        "/v1/singer-profiles", json={"name": name}, headers=attacker.headers()
    )
    assert created.status_code == 201
    read = api.client.get(f"/v1/singer-profiles/{created.json()['id']}", headers=attacker.headers())
    assert read.json()["name"] == name
    assert snapshot(api, folder).rows["render_jobs"]  # the table is there, with its rows


JSON = {"Content-Type": "application/json"}


def _to_every_body_endpoint(world, headers: dict, content: Callable[[dict], bytes]) -> list:
    """The answers of every /v1 endpoint that takes a body to the attacker's request with
    ``content(valid_body)`` as its body; checks that they changed nothing."""
    api, folder, attacker, _ = world
    before = snapshot(api, folder)
    requests = [OPERATIONS[name](api, attacker) for name in V1]
    responses = [
        api.client.request(
            method, path, content=content(body), headers={**attacker.headers(), **headers}
        )
        for method, path, body in requests
        if body is not None
    ]
    assert snapshot(api, folder) == before
    return responses


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversize_body_is_a_413_on_every_endpoint(world, chunked):
    api, folder, attacker, _ = world
    before = snapshot(api, folder)
    padding = " " * (MAX_JSON_BODY_BYTES + 1)
    huge = ('{"name": "Alto"' + padding + "}").encode()
    for name in V1:
        method, path, _ = OPERATIONS[name](api, attacker)
        content = iter([huge[:1000], huge[1000:]]) if chunked else huge
        response = api.client.request(
            method, path, content=content, headers={**attacker.headers(), **JSON}
        )
        assert_error(response, 413, {"body_too_large"})
    assert snapshot(api, folder) == before


def test_a_body_at_the_limit_is_read(world):
    api, _, attacker, _ = world
    body = '{"name": "Alto"}'
    body += " " * (MAX_JSON_BODY_BYTES - len(body))
    response = api.client.post(
        "/v1/singer-profiles",
        content=body.encode(),
        headers={**attacker.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


def test_an_upload_declared_over_the_cap_is_a_413_and_stores_nothing(world):
    api, folder, attacker, _ = world
    before = snapshot(api, folder)
    response = api.client.put(
        _signed(api, "PUT", _open_upload(attacker)),
        content=b"RIFF",
        headers={"Content-Length": str(MAX_UPLOAD_BYTES + 1)},
    )
    assert_error(response, 413, {"upload_too_large"})
    assert snapshot(api, folder) == before


MALFORMED = {
    "truncated": b'{"name": "Al',
    "no_value": b'{"name": }',
    "single_quotes": b"{'name': 'Alto'}",
    "trailing_comma": b'{"name": "Alto",}',
    "nan": b'{"name": NaN}',
    "not_utf8": b'{"name": "\xff\xfe"}',
    "two_documents": b'{"name": "A"}{"name": "B"}',
    "deep_nesting": b"[" * 50_000,
    "deep_object": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "huge_int": b'{"name": ' + b"9" * 5000 + b"}",
}
NOT_AN_OBJECT = [b"[]", b'["Alto"]', b'"Alto"', b"42", b"null", b"true"]


@pytest.mark.parametrize("label", MALFORMED)
def test_malformed_json_is_a_400_on_every_endpoint_with_a_body(world, label):
    for response in _to_every_body_endpoint(world, JSON, lambda body: MALFORMED[label]):
        assert_error(response, 400, {"malformed_json"})


@pytest.mark.parametrize("raw", NOT_AN_OBJECT, ids=lambda raw: raw.decode())
def test_json_that_is_not_an_object_is_a_422(world, raw):
    for response in _to_every_body_endpoint(world, JSON, lambda body: raw):
        assert_error(response, 422, {"invalid_body"})
        assert response.json()["error"]["problems"][0]["path"] == "$"


CONTENT_TYPES = {
    "text_plain": {"Content-Type": "text/plain"},
    "form": {"Content-Type": "application/x-www-form-urlencoded"},
    "multipart": {"Content-Type": "multipart/form-data; boundary=x"},
    "json_lookalike": {"Content-Type": "application/json-patch+json"},
    "missing": {},
}


@pytest.mark.parametrize("label", CONTENT_TYPES)
def test_a_json_body_under_another_content_type_is_a_415(world, label):
    to_json = lambda body: json.dumps(body).encode()  # noqa: E731
    for response in _to_every_body_endpoint(world, CONTENT_TYPES[label], to_json):
        assert_error(response, 415, {"unsupported_media_type"})


def test_form_data_is_a_415(world):
    api, _, attacker, _ = world
    response = api.client.post(
        "/v1/singer-profiles", data={"name": "Alto"}, headers=attacker.headers()
    )
    assert_error(response, 415, {"unsupported_media_type"})


def test_json_with_a_charset_parameter_is_accepted(world):
    api, _, attacker, _ = world
    response = api.client.post(
        "/v1/singer-profiles",
        content=b'{"name": "Alto"}',
        headers={**attacker.headers(), "Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


NON_UUIDS = ["not-a-uuid", "1", "00000000000000000000000000000000", "{0}", "%00", "' OR 1=1 --"]


@pytest.mark.parametrize("value", NON_UUIDS)
@pytest.mark.parametrize("operation", [name for name, field in TARGETS if field.startswith("path")])
def test_a_non_uuid_id_in_a_path_is_a_404(world, operation, value):
    api, folder, attacker, _ = world
    method, path, body = OPERATIONS[operation](api, attacker)
    own_id = attacker.profile_id if attacker.profile_id in path else attacker.job_id
    response = api.client.request(
        method, path.replace(own_id, quote(value, safe="%")), json=body, headers=attacker.headers()
    )
    assert_error(response, 404, {"not_found"})
