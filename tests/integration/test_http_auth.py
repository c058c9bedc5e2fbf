"""Who may call the API: in ``api_keys`` mode every /v1 operation of the document refuses a
request without a valid key (none, another scheme, a malformed, unknown or revoked key, and
``X-User-Id`` alone), 401 with ``WWW-Authenticate: Bearer`` and the JSON error body, changing
nothing; in ``dev_header`` mode, one without a valid ``X-User-Id``. ``X-User-Id`` beside a key
is ignored; health and the document need no key; keys are kept as digests, their use
recorded.

The world is seeded once per mode (a refused request changes nothing, which each case checks);
each operation is sent as Bob's own request (tests/integration/test_cross_user_matrix.py's
``request_of``), only the credentials replaced.
"""

import hashlib
import re
import uuid

import pytest
import sqlalchemy as sa

from tests.integration.http_world import STORE, assert_error, module_api, seed_user, snapshot
from tests.integration.migrated_database import connected
from tests.integration.test_cross_user_matrix import (
    DOCUMENT,
    named_ids,
    operations,
    own_values,
    request_of,
)
from voxregen_adapters.db.tables import api_keys
from voxregen_adapters.settings import AuthMode
from voxregen_core.use_cases.api_keys import create_api_key, revoke_api_key

ALICE = uuid.UUID("a11ce000-0000-4000-8000-00000000000a")
BOB = uuid.UUID("b0b00000-0000-4000-8000-00000000000b")
UNKNOWN_KEY = "vxr_" + "A" * 43
CHALLENGE = 'Bearer realm="voxregen"'
BAD_TOKEN = 'Bearer realm="voxregen", error="invalid_token"'

GUARDED = [
    pytest.param(path, method, id=operation["operationId"])
    for path, method, operation in operations()
    if operation.get("security", DOCUMENT["security"])
]


def _example_path(path: str, operation: dict) -> str:
    """``path`` with each parameter the document's example (``/static/js/main.js``)."""
    examples = {each["name"]: each.get("example") for each in operation.get("parameters", [])}
    return re.sub(r"\{(\w+)\}", lambda found: examples[found.group(1)], path)


PUBLIC = [
    (_example_path(path, operation), method)
    for path, method, operation in operations()
    if operation.get("security") == [] and not path.startswith("/storage/")
]


@pytest.fixture(scope="module")
def worlds(database_url, redis_url, tmp_path_factory):
    """For each mode: the app, the folder it stores in, Bob's world and a key of his that was
    revoked."""
    found = {}
    with (
        module_api(
            database_url,
            redis_url,
            (keys_folder := tmp_path_factory.mktemp("keys")) / STORE,
            auth_mode=AuthMode.API_KEYS,
        ) as keys_api,
        module_api(
            database_url,
            redis_url,
            (dev_folder := tmp_path_factory.mktemp("dev")) / STORE,
            auth_mode=AuthMode.DEV_HEADER,
        ) as dev_api,
    ):
        for mode, api, folder in (
            (AuthMode.API_KEYS, keys_api, keys_folder),
            (AuthMode.DEV_HEADER, dev_api, dev_folder),
        ):
            seed_user(api, ALICE)
            revoked = create_api_key(api.service.api_keys, user_id=BOB, name="old")
            revoke_api_key(api.service.api_keys, api.service.clock, key_id=revoked.row.id)
            found[mode] = (api, folder, seed_user(api, BOB), revoked.key)
        yield found


def _bobs_request(api, bob, path: str, method: str) -> dict:
    names = named_ids(path, DOCUMENT["paths"][path][method.lower()])
    return request_of(api, bob, path, method, own_values(bob, names, method))


KEY_MODE_CREDENTIALS = {
    "none": ({}, "unauthenticated", CHALLENGE),
    "x-user-id-alone": ({"X-User-Id": str(BOB)}, "unauthenticated", CHALLENGE),
    "basic-scheme": ({"Authorization": "Basic Ym9iOnNlY3JldA=="}, "invalid_api_key", BAD_TOKEN),
    "bearer-without-key": ({"Authorization": "Bearer"}, "invalid_api_key", BAD_TOKEN),
    "malformed-key": ({"Authorization": "Bearer vxr_short"}, "invalid_api_key", BAD_TOKEN),
    "unknown-key": ({"Authorization": f"Bearer {UNKNOWN_KEY}"}, "invalid_api_key", BAD_TOKEN),
    "two-keys": (
        {"Authorization": f"Bearer {UNKNOWN_KEY} {UNKNOWN_KEY}"},
        "invalid_api_key",
        BAD_TOKEN,
    ),
}


@pytest.mark.parametrize("credential", [*KEY_MODE_CREDENTIALS, "revoked-key"])
@pytest.mark.parametrize(("path", "method"), GUARDED)
def test_api_keys_mode_refuses_every_operation_without_a_valid_key(
    worlds, path, method, credential
):
    api, folder, bob, revoked_key = worlds[AuthMode.API_KEYS]
    if credential == "revoked-key":
        headers, code, challenge = (
            {"Authorization": f"Bearer {revoked_key}"},
            "invalid_api_key",
            BAD_TOKEN,
        )
    else:
        headers, code, challenge = KEY_MODE_CREDENTIALS[credential]
    request = _bobs_request(api, bob, path, method) | {"headers": headers}
    before = snapshot(api, folder)

    response = api.client.request(**request)

    assert_error(response, 401, {code})
    assert response.headers["www-authenticate"] == challenge
    assert snapshot(api, folder) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-User-Id": "not-a-uuid"},
        {"X-User-Id": str(BOB).replace("-", "")},
        {"Authorization": f"Bearer {UNKNOWN_KEY}"},  # a key means nothing in this mode
    ],
    ids=["none", "not-a-uuid", "unhyphenated", "a-key-instead"],
)
@pytest.mark.parametrize(("path", "method"), GUARDED)
def test_dev_header_mode_refuses_every_operation_without_a_valid_user_id(
    worlds, path, method, headers
):
    api, folder, bob, _ = worlds[AuthMode.DEV_HEADER]
    request = _bobs_request(api, bob, path, method) | {"headers": headers}
    before = snapshot(api, folder)

    response = api.client.request(**request)

    assert_error(response, 401, {"unauthenticated"})
    assert snapshot(api, folder) == before


def test_x_user_id_beside_a_key_is_ignored(worlds):
    api, _, bob, _ = worlds[AuthMode.API_KEYS]
    as_alice_too = bob.headers() | {"X-User-Id": str(ALICE)}

    profiles = api.client.get("/v1/singer-profiles", headers=as_alice_too)

    assert profiles.status_code == 200
    assert [item["id"] for item in profiles.json()["items"]] == [bob.profile_id]


@pytest.mark.parametrize(("path", "method"), PUBLIC)
def test_health_and_the_document_need_no_key(worlds, path, method):
    api, _, _, _ = worlds[AuthMode.API_KEYS]
    assert api.client.request(method, path).status_code == 200


def test_keys_are_kept_as_digests_and_their_use_is_recorded(worlds):
    api, _, _, _ = worlds[AuthMode.API_KEYS]
    user_id = uuid.uuid4()
    made = create_api_key(api.service.api_keys, user_id=user_id, name="laptop")
    bearer = {"Authorization": f"Bearer {made.key}"}

    def row() -> sa.Row:
        with connected(api.service.settings.database_url) as connection:
            return connection.execute(
                sa.select(api_keys).where(api_keys.c.user_id == user_id)
            ).one()

    stored = row()
    assert made.key not in repr(tuple(stored))
    assert stored.digest == hashlib.sha256(made.key.encode()).hexdigest()
    assert (stored.prefix, stored.name, stored.last_used_at) == (made.key[:8], "laptop", None)

    assert api.client.get("/v1/singer-profiles", headers=bearer).status_code == 200
    used_at = row().last_used_at
    assert used_at is not None
    assert api.client.get("/v1/singer-profiles", headers=bearer).status_code == 200
    assert row().last_used_at == used_at  # within a minute: not written again

    revoke_api_key(api.service.api_keys, api.service.clock, key_id=made.row.id)
    assert_error(api.client.get("/v1/singer-profiles", headers=bearer), 401, {"invalid_api_key"})
