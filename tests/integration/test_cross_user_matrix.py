"""No user reaches another's data: for every operation of voxregen_http/openapi.yaml and every
id or key it names (path parameters, and body fields that are ids or storage keys), user B sends
A's value where B's own would go.

Each such request is refused, 404 for the API (exactly as for a missing thing) and 403 for a
storage URL (B's signature does not cover A's key), with the JSON error body; every row and
every stored file is unchanged afterwards; and the same request with B's own value succeeds,
so the refusal comes from the other user's value and nothing else.

The list is derived from the document: a new route is in the matrix at once, and one that
names an id this file has no value for fails at collection (add it to ``VICTIM_VALUES``).
"""

import copy
import re
import uuid
from collections.abc import Callable
from urllib.parse import quote

import pytest
import yaml

from tests.integration.http_api import running_api
from tests.integration.http_world import STORE, World, assert_error, seed_user, snapshot
from voxregen_adapters.settings import AuthMode
from voxregen_core.keys import upload_key_for
from voxregen_http.routes.openapi import DOCUMENT as OPENAPI

DOCUMENT = yaml.safe_load(OPENAPI.read_text())
ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")

Overrides = Callable[[World], dict[str, str]]
VICTIM_VALUES: dict[str, list[tuple[str, Overrides]]] = {
    "profile_id": [("profile", lambda w: {"profile_id": w.profile_id})],
    "job_id": [("job", lambda w: {"job_id": w.job_id})],
    "key": [
        ("reference", lambda w: {"key": w.reference_key}),
        ("input", lambda w: {"key": w.input_key}),
        ("output", lambda w: {"key": w.output_key}),
        ("pending-input", lambda w: {"key": w.pending_input_key}),
        ("pending-upload", lambda w: {"key": upload_key_for(w.pending_input_key)}),
    ],
    "singer_profile_id": [("profile", lambda w: {"singer_profile_id": w.profile_id})],
    "input_object_key": [
        ("pending-input", lambda w: {"input_object_key": w.pending_input_key}),
        ("rendered-input", lambda w: {"input_object_key": w.input_key}),
    ],
    "ref_id": [
        (
            "pending-reference",
            lambda w: {"ref_id": w.pending_reference_id, "object_key": w.pending_reference_key},
        ),
        ("reference", lambda w: {"ref_id": w.reference_id, "object_key": w.reference_key}),
    ],
    "object_key": [("pending-reference", lambda w: {"object_key": w.pending_reference_key})],
}
"""For each id or key an operation names: what of the user's own to put there (the first
choice is the one a valid request of that user uses)."""

_ID_SCHEMAS = ("#/components/schemas/Uuid", "#/components/schemas/JobInputKey")
_ID_SCHEMAS += ("#/components/schemas/ReferenceKey",)


def _resolved(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations() -> list[tuple[str, str, dict]]:
    """Every (path, METHOD, operation) of the document."""
    return [
        (path, method.upper(), operation)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


NOT_IDS = {"path"}
"""Path parameters that name no user's anything: ``/static/{path}`` is a file of the web app,
the same for every caller."""


def named_ids(path: str, operation: dict) -> list[str]:
    """The ids and keys ``operation`` names: its path parameters and its body's id fields."""
    names = [name for name in re.findall(r"\{(\w+)\}", path) if name not in NOT_IDS]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        properties = _resolved(body["schema"])["properties"]
        names += [name for name, schema in properties.items() if schema.get("$ref") in _ID_SCHEMAS]
    return names


def _cases():
    for path, method, operation in operations():
        for name in named_ids(path, operation):
            for label, _ in VICTIM_VALUES[name]:  # a KeyError here: a new id with no value
                yield pytest.param(
                    path, method, name, label, id=f"{operation['operationId']}-{name}-{label}"
                )


NAMES_NOTHING = {
    "createSingerProfile",
    "prepareRenderInputUpload",
    "listSingerProfiles",
    "listRenderJobs",
    "getWebhookSecret",
    "healthz",
    "readyz",
    "openapi",
    "metrics",
    "webApp",
    "webAppFile",
}


@pytest.fixture(params=list(AuthMode), ids=lambda mode: mode.value)
def world(request, fresh_database_url, redis_url, tmp_path):
    """Alice's and Bob's worlds, in each way the API can know its caller: Bob's requests carry
    his own credentials (his API key, or his X-User-Id) and name Alice's ids."""
    with running_api(
        fresh_database_url, redis_url, tmp_path / STORE, auth_mode=request.param
    ) as api:
        yield api, tmp_path, seed_user(api, ALICE), seed_user(api, BOB)


def request_of(api, user: World, path: str, method: str, values: dict[str, str]) -> dict:
    """``user``'s request for the operation at ``path``, ``values`` filling its ids: the
    document's example body, the path's parameters, and for storage the user's own grant."""
    operation = DOCUMENT["paths"][path][method.lower()]
    url = re.sub(r"\{(\w+)\}", lambda m: quote(values[m.group(1)], safe="/"), path)
    if path.startswith("/storage/"):
        store = api.service.store
        presign = store.presigned_get_url if method == "GET" else store.presigned_put_url
        grant = presign(own_storage_key(user, method), expires_s=600).partition("?")[2]
        return {
            "method": method,
            "url": f"{url}?{grant}",
            "content": b"RIFF-from-" + method.encode(),
        }
    request = {"method": method, "url": url, "headers": user.headers()}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        example = copy.deepcopy(body["example"])
        request["json"] = example | {k: v for k, v in values.items() if k in example}
    return request


def own_storage_key(user: World, method: str) -> str:
    """The key of ``user``'s that a storage URL grants ``method`` on: the output to GET, the
    reserved input's upload to PUT."""
    return user.output_key if method == "GET" else upload_key_for(user.pending_input_key)


def own_values(user: World, names: list[str], method: str) -> dict[str, str]:
    """``user``'s own values for ``names``, those of a request that succeeds."""
    values: dict[str, str] = {}
    for name in names:
        values |= VICTIM_VALUES[name][0][1](user)
    return values | ({"key": own_storage_key(user, method)} if "key" in names else {})


@pytest.mark.parametrize(("path", "method", "name", "label"), list(_cases()))
def test_another_users_id_is_refused_and_changes_nothing(world, path, method, name, label):
    api, folder, alice, bob = world
    names = named_ids(path, DOCUMENT["paths"][path][method.lower()])
    victims = dict(VICTIM_VALUES[name])[label](alice)
    before = snapshot(api, folder)

    response = api.client.request(
        **request_of(api, bob, path, method, own_values(bob, names, method) | victims)
    )

    if path.startswith("/storage/"):
        assert_error(response, 403, {"forbidden"})
    else:
        assert_error(response, 404, {"not_found", "object_not_found"})
    assert snapshot(api, folder) == before
    own_request = own_values(bob, names, method)
    if "ref_id" in names and method == "DELETE":  # a reference can be deleted once committed
        own_request["ref_id"] = bob.reference_id
    own = api.client.request(**request_of(api, bob, path, method, own_request))
    # the same request with Bob's own value is not refused as missing: it succeeds, or (his job
    # being done) a cancel is refused as too late
    operation_id = DOCUMENT["paths"][path][method.lower()]["operationId"]
    if operation_id == "cancelRenderJob":
        assert_error(own, 409, {"job_finished"})
    else:
        assert 200 <= own.status_code < 300, own.text


def test_the_matrix_covers_every_operation_but_those_that_name_nothing():
    named = {op["operationId"] for path, _, op in operations() if named_ids(path, op)}
    every = {op["operationId"] for _, _, op in operations()}
    assert every - named == NAMES_NOTHING
    assert {case.id.split("-", 1)[0] for case in _cases()} == named


def test_operations_that_name_nothing_leave_the_other_user_unchanged(world):
    api, folder, alice, bob = world
    before = snapshot(api, folder)
    for path, method, operation in operations():
        if operation["operationId"] in NAMES_NOTHING:
            request = request_of(api, bob, path, method, {"path": "js/main.js"})
            assert api.client.request(**request).status_code < 300
    after = snapshot(api, folder)
    for table, rows in before.rows.items():
        alices = [row for row in rows if ALICE in row]
        assert [row for row in after.rows[table] if ALICE in row] == alices
    assert {k: v for k, v in after.files.items() if str(ALICE) in k} == {
        k: v for k, v in before.files.items() if str(ALICE) in k
    }


def query_ids(operation: dict) -> list[str]:
    """The query parameters of ``operation`` that are ids (a list's filters)."""
    parameters = [_resolved_parameter(parameter) for parameter in operation.get("parameters", [])]
    return [
        parameter["name"]
        for parameter in parameters
        if parameter["in"] == "query" and parameter["schema"].get("$ref") in _ID_SCHEMAS
    ]


def _resolved_parameter(parameter: dict) -> dict:
    if "$ref" in parameter:
        return DOCUMENT["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
    return parameter


def test_bobs_lists_hold_nothing_of_alices_whatever_he_filters_by_or_pages_from(world):
    """A list answers only the caller's own: filtered by one of Alice's ids it is empty (an id
    that matches none of Bob's, as any other), and Alice's cursor is a 400."""
    api, folder, alice, bob = world
    # a second of each of Alice's things, so each of her lists has a next page
    post = api.client.post
    post("/v1/singer-profiles", json={"name": "Tenor"}, headers=alice.headers())
    post(f"/v1/render-jobs/{alice.job_id}:clone", json={}, headers=alice.headers())
    commit = {"ref_id": alice.pending_reference_id, "object_key": alice.pending_reference_key}
    post(
        f"/v1/singer-profiles/{alice.profile_id}/references:commit",
        json=commit,
        headers=alice.headers(),
    )
    before = snapshot(api, folder)
    lists = [
        (path, operation)
        for path, method, operation in operations()
        if method == "GET" and operation["operationId"].startswith("list")
    ]
    assert {operation["operationId"] for _, operation in lists} >= {
        "listSingerProfiles",
        "listReferences",
        "listRenderJobs",
    }
    alice_ids = {alice.profile_id, alice.job_id, alice.reference_id}
    for path, operation in lists:
        request = request_of(
            api, bob, path, "GET", own_values(bob, named_ids(path, operation), "GET")
        )
        own = api.client.request(**request, params={"limit": 1})
        assert own.status_code == 200 and own.json()["items"], own.text
        assert not alice_ids & {item["id"] for item in own.json()["items"]}
        for name in query_ids(operation):
            filtered = api.client.request(**request, params=VICTIM_VALUES[name][0][1](alice))
            assert filtered.json() == {"items": [], "next_cursor": None}, (path, name)
        alices = request_of(
            api, alice, path, "GET", own_values(alice, named_ids(path, operation), "GET")
        )
        alice_page = api.client.request(**alices, params={"limit": 1}).json()
        stolen = api.client.request(**request, params={"cursor": alice_page["next_cursor"]})
        assert_error(stolen, 400, {"invalid_cursor"})
    assert snapshot(api, folder) == before


def test_bob_cannot_get_a_url_for_alices_key(world):
    """No operation takes a key and answers a URL for it; those that take one of Alice's
    (commit, create) refuse it with no URL in the answer, and Bob's own URLs carry his keys."""
    api, _, alice, bob = world
    for path, method, name, label in (p.values for p in _cases()):
        if path.startswith("/storage/") or name not in ("object_key", "input_object_key"):
            continue
        names = named_ids(path, DOCUMENT["paths"][path][method.lower()])
        victims = dict(VICTIM_VALUES[name])[label](alice)
        response = api.client.request(
            **request_of(api, bob, path, method, own_values(bob, names, method) | victims)
        )
        assert response.status_code == 404 and "url" not in response.text
    prepared = api.client.post(
        f"/v1/singer-profiles/{bob.profile_id}/references:prepare-upload", headers=bob.headers()
    ).json()
    assert f"/storage/users/{bob.user_id}/" in prepared["upload_url"]
    assert str(alice.user_id) not in prepared["upload_url"]
