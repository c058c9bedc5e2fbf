"""schemathesis against the app over a real service: requests generated from docs/openapi.yaml
(valid and invalid ones) never get a 5xx, and every response conforms to the document (status
code, content type, headers, body schema). One database per operation, shared by its examples."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.http_api import running_api

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
schema = schemathesis.openapi.from_path(OPENAPI)


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


@schema.parametrize()
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_app_conforms_to_its_openapi_document(case, api):
    case.call_and_validate(app=api.client.app)
