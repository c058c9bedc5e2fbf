"""The bad-input corpus (tests/bad_inputs.py) as singer references, through the references
prepare-upload and commit endpoints and the worker's profile_build: a profile whose only
reference is bad ends in ``error`` with the reference's problem in its reason, the reference
not accepted; a good reference committed after it builds the profile ``ready``.

The corpus's valid stems are 2 s long, under the 3 s a reference needs, so every case is a bad
reference: the refused ones for their input code, the valid ones for their length."""

import uuid

import pytest

from tests.bad_inputs import CORPUS, BadInput
from tests.integration.http_api import as_user, running_api
from tests.integration.test_http_profiles import ALICE, create_profile
from tests.integration.worker_world import reference_wav
from voxregen_worker.profile_build import profile_build


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


def built_with(api, profile_id: str, data: bytes) -> tuple[dict, str]:
    """Upload ``data`` as a reference, commit it, run the build; the profile as GET answers it
    and the reference's id."""
    base = f"/v1/singer-profiles/{profile_id}/references"
    prepared = api.client.post(f"{base}:prepare-upload", headers=as_user(ALICE)).json()
    assert api.client.put(prepared["upload_url"], content=data).status_code == 204
    body = {"ref_id": prepared["ref_id"], "object_key": prepared["object_key"], "duration_sec": 2}
    committed = api.client.post(f"{base}:commit", json=body, headers=as_user(ALICE))
    assert committed.status_code == 202, committed.text
    profile_build(api.service, ALICE, uuid.UUID(profile_id))
    profile = api.client.get(f"/v1/singer-profiles/{profile_id}", headers=as_user(ALICE))
    assert profile.status_code == 200, profile.text
    return profile.json(), prepared["ref_id"]


def expected_problem(case: BadInput) -> str:
    return "shorter than 3 s (2.00 s)" if case.renders else f"{case.outcome}: "


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_a_bad_reference_ends_the_build_in_error_naming_its_problem(api, case: BadInput):
    profile_id = create_profile(api)
    profile, ref_id = built_with(api, profile_id, case.data)

    assert profile["status"] == "error"
    error = profile["stats"]["error"]
    assert error["code"] == "invalid_input"
    assert error["message"].startswith(f"no usable reference: {ref_id}: {expected_problem(case)}")
    assert case.says in error["message"]
    (reference,) = profile["references"]
    assert reference["accepted"] is False
    assert reference["quality_metrics"]["problems"][0].startswith(expected_problem(case))

    rebuilt, _ = built_with(api, profile_id, reference_wav())
    assert rebuilt["status"] == "ready"
    assert (rebuilt["stats"]["n_references"], rebuilt["stats"]["n_rejected"]) == (1, 1)
