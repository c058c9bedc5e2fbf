"""schemathesis against the app over a real service: requests generated from
voxregen_http/openapi.yaml (its examples, then valid and invalid data) never get a 5xx, and every
response conforms to the document (status code, content type, headers, body schema), 2xx bodies
included.

The database is seeded with what the document's examples name (its user's ready profile, an
uploaded reference, a done job and an uploaded stem), so the examples reach the success paths;
generated ids mostly reach the refusals. One database per operation, shared by its examples.
"""

import uuid

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.integration.http_api import build_profile, finish_job, running_api
from voxregen_adapters.settings import AuthMode
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import job_input_key
from voxregen_core.profiles import ProfileStatus, SingerProfile
from voxregen_http.routes.openapi import DOCUMENT as OPENAPI

schema = schemathesis.openapi.from_path(OPENAPI)
_document = yaml.safe_load(OPENAPI.read_text())
_examples = {
    name: parameter["example"]
    for name, parameter in _document["components"]["parameters"].items()
    if "example" in parameter
}
PROFILE, JOB = (uuid.UUID(_examples[name]) for name in ("ProfileId", "JobId"))
_create = _document["paths"]["/v1/render-jobs"]["post"]
INPUT_KEY = _create["requestBody"]["content"]["application/json"]["example"]["input_object_key"]
USER = uuid.UUID(INPUT_KEY.split("/")[1])  # the caller whose keys the examples name
_commit = _document["paths"]["/v1/singer-profiles/{profile_id}/references:commit"]["post"]
REFERENCE_KEY = _commit["requestBody"]["content"]["application/json"]["example"]["object_key"]


@pytest.fixture(params=list(AuthMode), ids=lambda mode: mode.value)
def api(request, fresh_database_url, redis_url, tmp_path):
    """The app in each way it can know its caller, seeded for the examples' user."""
    with running_api(fresh_database_url, redis_url, tmp_path, auth_mode=request.param) as api:
        service = api.service
        service.profiles.add(
            SingerProfile(id=PROFILE, user_id=USER, name="Alto", status=ProfileStatus.BUILDING)
        )
        build_profile(service, USER, PROFILE)
        service.store.put(REFERENCE_KEY, b"RIFF-reference")
        service.store.put(job_input_key(USER, JOB), b"RIFF-stem")
        service.jobs.add(
            RenderJob(
                id=JOB,
                user_id=USER,
                singer_profile_id=PROFILE,
                input_object_key=job_input_key(USER, JOB),
            )
        )
        finish_job(service, USER, JOB, b"RIFF-output")
        service.store.put(INPUT_KEY, b"RIFF-new-stem")
        yield api


@schema.parametrize()
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_app_conforms_to_its_openapi_document(case, api):
    # A list's cursor is valid only as the API gave it, which no schema can say: a generated one
    # is answered 400 `invalid_cursor`; and a generated Idempotency-Key may be one an earlier
    # example used with another body: 422 `idempotency_key_reused`. Both as documented, which
    # the other checks still verify.
    # A webhook URL likewise: whether it is taken depends on where its name resolves now.
    body = case.body if isinstance(case.body, dict) else {}
    generated = (
        "cursor" in (case.query or {})
        or "Idempotency-Key" in (case.headers or {})
        or "webhook_url" in body
    )
    excluded = [positive_data_acceptance] if generated else []
    # schemathesis's own check that a request without credentials is refused re-sends it
    # outside the ASGI app (to the document's server); tests/integration/test_http_auth.py
    # sends every operation without (and with bad) credentials instead.
    case.call_and_validate(
        app=api.client.app,
        headers=api.as_user(USER),
        excluded_checks=[*excluded, ignored_auth],
    )
