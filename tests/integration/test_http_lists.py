"""Lists over HTTP, on the real PostgreSQL: the caller's render jobs (filtered by status and
profile), singer profiles and a profile's references, newest first in pages of ``limit``, each
item exactly its single GET; cursors that are positions (a page neither shifts nor repeats as
rows are created meanwhile, and rows created in one instant are ordered by id), bound to their
list and caller; every bad parameter a 400 naming it.
"""

import uuid

import pytest
import sqlalchemy as sa

from tests.integration.http_api import as_user, build_profile, finish_job, running_api
from tests.integration.http_world import assert_error
from tests.signals import sine, wav_bytes

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
STEM = wav_bytes(sine(220.0, peak_dbfs=-6.0, duration_s=1.0), subtype="PCM_16")


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


def new_profile(api, user_id=ALICE, name="Alto") -> str:
    response = api.client.post("/v1/singer-profiles", json={"name": name}, headers=as_user(user_id))
    assert response.status_code == 201, response.text
    profile_id = response.json()["id"]
    build_profile(api.service, user_id, uuid.UUID(profile_id))
    return profile_id


def new_job(api, profile_id: str, user_id=ALICE) -> str:
    prepared = api.client.post("/v1/render-jobs:prepare-upload", headers=as_user(user_id)).json()
    assert api.client.put(prepared["upload_url"], content=STEM).status_code == 204
    body = {"singer_profile_id": profile_id, "input_object_key": prepared["object_key"]}
    response = api.client.post("/v1/render-jobs", json=body, headers=as_user(user_id))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def new_reference(api, profile_id: str, user_id=ALICE) -> str:
    path = f"/v1/singer-profiles/{profile_id}/references"
    prepared = api.client.post(f"{path}:prepare-upload", headers=as_user(user_id)).json()
    assert api.client.put(prepared["upload_url"], content=STEM).status_code == 204
    body = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"]}
    response = api.client.post(f"{path}:commit", json=body, headers=as_user(user_id))
    assert response.status_code == 202, response.text
    return prepared["ref_id"]


def pages(api, path: str, user_id=ALICE, **params) -> list[dict]:
    """Every page of a list, following next_cursor to the end."""
    answers, cursor = [], None
    while True:
        query = params | ({} if cursor is None else {"cursor": cursor})
        response = api.client.get(path, params=query, headers=as_user(user_id))
        assert response.status_code == 200, response.text
        answers.append(response.json())
        cursor = answers[-1]["next_cursor"]
        if cursor is None:
            return answers


def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


def test_jobs_come_newest_first_in_pages_each_item_its_single_get(api):
    profile_id = new_profile(api)
    created = [new_job(api, profile_id) for _ in range(5)]

    answers = pages(api, "/v1/render-jobs", limit=2)
    assert [len(page["items"]) for page in answers] == [2, 2, 1]
    assert [job_id for page in answers for job_id in ids(page)] == created[::-1]
    for item in answers[0]["items"] + answers[2]["items"]:
        single = api.client.get(f"/v1/render-jobs/{item['id']}", headers=as_user(ALICE))
        assert item == single.json()

    default = api.client.get("/v1/render-jobs", headers=as_user(ALICE)).json()
    assert ids(default) == created[::-1] and default["next_cursor"] is None  # 20 per page


def test_a_page_neither_shifts_nor_repeats_as_jobs_are_created_meanwhile(api):
    profile_id = new_profile(api)
    before = [new_job(api, profile_id) for _ in range(4)]
    first = api.client.get("/v1/render-jobs?limit=2", headers=as_user(ALICE)).json()
    during = [new_job(api, profile_id) for _ in range(3)]  # newer than everything listed

    rest = api.client.get(
        "/v1/render-jobs",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=as_user(ALICE),
    ).json()
    assert ids(first) + ids(rest) == before[::-1]
    assert rest["next_cursor"] is None
    fresh = api.client.get("/v1/render-jobs?limit=3", headers=as_user(ALICE)).json()
    assert ids(fresh) == during[::-1]


def test_rows_of_the_same_instant_are_ordered_by_id_and_none_is_lost(api, fresh_database_url):
    """Rows inserted in one transaction share ``now()``: the id breaks the tie, so a page
    boundary between two of them loses neither."""
    profile_id = new_profile(api)
    created = [new_job(api, profile_id) for _ in range(5)]
    engine = sa.create_engine(fresh_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE render_jobs SET created_at = '2026-12-01T12:00Z'"))
    finally:
        engine.dispose()

    answers = pages(api, "/v1/render-jobs", limit=2)
    assert [job_id for page in answers for job_id in ids(page)] == sorted(created, reverse=True)


def test_jobs_filter_by_status_and_profile(api):
    alto, tenor = new_profile(api, name="Alto"), new_profile(api, name="Tenor")
    alto_jobs = [new_job(api, alto) for _ in range(3)]
    tenor_job = new_job(api, tenor)
    finish_job(api.service, ALICE, uuid.UUID(alto_jobs[1]), b"RIFF-output")

    def listed(**params) -> list[str]:
        return [
            job_id
            for page in pages(api, "/v1/render-jobs", limit=1, **params)
            for job_id in ids(page)
        ]

    assert listed(singer_profile_id=alto) == alto_jobs[::-1]
    assert listed(singer_profile_id=tenor) == [tenor_job]
    assert listed(status="done") == [alto_jobs[1]]
    assert listed(status="queued") == [tenor_job, alto_jobs[2], alto_jobs[0]]
    assert listed(status="queued", singer_profile_id=alto) == [alto_jobs[2], alto_jobs[0]]
    assert listed(status="failed") == []
    assert listed(singer_profile_id=str(uuid.uuid4())) == []


def test_profiles_and_a_profiles_references_are_listed_each_item_its_single_get(api):
    first, second, third = (new_profile(api, name=name) for name in ("A", "B", "C"))
    references = [new_reference(api, second) for _ in range(3)]

    answers = pages(api, "/v1/singer-profiles", limit=2)
    assert [profile_id for page in answers for profile_id in ids(page)] == [third, second, first]
    listed_second = answers[0]["items"][1]
    single = api.client.get(f"/v1/singer-profiles/{second}", headers=as_user(ALICE)).json()
    assert listed_second == single
    assert {reference["id"] for reference in single["references"]} == set(references)

    path = f"/v1/singer-profiles/{second}/references"
    answers = pages(api, path, limit=2)
    assert [ref_id for page in answers for ref_id in ids(page)] == references[::-1]
    by_id = {reference["id"]: reference for reference in single["references"]}
    assert all(item == by_id[item["id"]] for page in answers for item in page["items"])
    assert pages(api, f"/v1/singer-profiles/{first}/references") == [
        {"items": [], "next_cursor": None}
    ]


def test_lists_are_the_callers_own_and_another_users_cursor_is_a_400(api):
    alice_profile = new_profile(api, ALICE)
    for _ in range(2):
        new_job(api, alice_profile, ALICE)
    bob_profile = new_profile(api, BOB)
    bob_job = new_job(api, bob_profile, BOB)
    alice_page = api.client.get("/v1/render-jobs?limit=1", headers=as_user(ALICE)).json()

    assert ids(pages(api, "/v1/render-jobs", BOB)[0]) == [bob_job]
    assert ids(pages(api, "/v1/singer-profiles", BOB)[0]) == [bob_profile]
    assert pages(api, "/v1/render-jobs", BOB, singer_profile_id=alice_profile) == [
        {"items": [], "next_cursor": None}
    ]
    stolen = api.client.get(
        "/v1/render-jobs", params={"cursor": alice_page["next_cursor"]}, headers=as_user(BOB)
    )
    assert_error(stolen, 400, {"invalid_cursor"})
    refs = api.client.get(f"/v1/singer-profiles/{alice_profile}/references", headers=as_user(BOB))
    assert_error(refs, 404, {"not_found"})


def test_a_cursor_is_bound_to_its_list(api):
    profile_id = new_profile(api)
    new_profile(api)
    for _ in range(2):
        new_reference(api, profile_id)
        new_job(api, profile_id)
    cursors = {
        path: api.client.get(path, params={"limit": 1}, headers=as_user(ALICE)).json()[
            "next_cursor"
        ]
        for path in (
            "/v1/render-jobs",
            "/v1/singer-profiles",
            f"/v1/singer-profiles/{profile_id}/references",
        )
    }
    assert all(cursors.values())
    other_profiles_refs = f"/v1/singer-profiles/{new_profile(api)}/references"
    for path in [*cursors, other_profiles_refs]:
        for source, cursor in cursors.items():
            response = api.client.get(path, params={"cursor": cursor}, headers=as_user(ALICE))
            if source == path:
                assert response.status_code == 200, response.text
            else:
                assert_error(response, 400, {"invalid_cursor"})


@pytest.mark.parametrize(
    ("query", "path", "code"),
    [
        ("limit=0", "query.limit", "invalid_query"),
        ("limit=101", "query.limit", "invalid_query"),
        ("limit=ten", "query.limit", "invalid_query"),
        ("limit=%EF%BC%91", "query.limit", "invalid_query"),  # a full-width digit one
        ("limit=1&limit=2", "query.limit", "invalid_query"),
        ("status=finished", "query.status", "invalid_query"),
        ("singer_profile_id=alto", "query.singer_profile_id", "invalid_query"),
        ("offset=20", "query.offset", "invalid_query"),
        ("cursor=", "query.cursor", "invalid_query"),
        ("cursor=not-a-cursor", None, "invalid_cursor"),
        ("cursor=eyJ2IjoxfQ", None, "invalid_cursor"),  # base64url of {"v":1}
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(api, query, path, code):
    response = api.client.get(f"/v1/render-jobs?{query}", headers=as_user(ALICE))
    assert_error(response, 400, {code})
    if path is not None:
        assert [problem["path"] for problem in response.json()["error"]["problems"]] == [path]


def test_the_profiles_lists_refuse_the_jobs_filters(api):
    response = api.client.get("/v1/singer-profiles?status=done", headers=as_user(ALICE))
    assert_error(response, 400, {"invalid_query"})
    assert "allowed: limit, cursor" in response.json()["error"]["message"]
