"""Webhook targets over HTTP and the sender's address checks: a job's ``webhook_url`` must be
http(s) and, unless private networks are allowed, reach only public addresses (no loopback,
private, link-local or metadata address, by name or by number); the events are checked; the
job shows its target; each user has one signing secret; a cancel queues the ``completed``
delivery."""

import uuid

import pytest

from tests.integration.http_api import as_user, new_job_body, running_api
from tests.integration.http_world import assert_error
from tests.signals import sine, wav_bytes
from voxregen_adapters.webhook_sender import UrllibWebhookSender
from voxregen_core.messages import WebhookDeliveryMessage
from voxregen_core.webhooks import InvalidWebhookUrlError

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
STEM = wav_bytes(sine(220.0, peak_dbfs=-6.0, duration_s=1.0), subtype="PCM_16")
PUBLIC_URL = "https://93.184.216.34/hooks/voxregen"
"""A public address by number: checked without a name to resolve (no DNS here)."""

REFUSED = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.0.0.7/hook",
    "http://192.168.1.20/hook",
    "http://172.16.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[fc00::1]/hook",
    "http://[fe80::1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    "ftp://93.184.216.34/hook",
    "file:///etc/passwd",
    "https:///no-host",
    "not a url",
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_sender_refuses_urls_that_are_not_public_http(url):
    with pytest.raises(InvalidWebhookUrlError):
        UrllibWebhookSender(allow_private_networks=False, timeout_s=1.0).check_url(url)


def test_the_sender_takes_a_public_address_and_private_ones_once_allowed():
    UrllibWebhookSender(allow_private_networks=False, timeout_s=1.0).check_url(PUBLIC_URL)
    allowed = UrllibWebhookSender(allow_private_networks=True, timeout_s=1.0)
    allowed.check_url("http://127.0.0.1:8080/hook")
    with pytest.raises(InvalidWebhookUrlError):
        allowed.check_url("ftp://127.0.0.1/hook")  # still http(s) only


@pytest.fixture
def api(fresh_database_url, redis_url, tmp_path):
    with running_api(fresh_database_url, redis_url, tmp_path) as api:
        yield api


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"webhook_url": "http://169.254.169.254/"}, "$.webhook_url"),
        ({"webhook_url": "http://127.0.0.1:9/"}, "$.webhook_url"),
        ({"webhook_url": "gopher://93.184.216.34/"}, "$.webhook_url"),
        ({"webhook_events": ["completed"]}, "$.webhook_events"),
        ({"webhook_url": PUBLIC_URL, "webhook_events": ["finished"]}, "$.webhook_events"),
        ({"webhook_url": PUBLIC_URL, "webhook_events": []}, "$.webhook_events"),
        ({"webhook_url": PUBLIC_URL, "webhook_events": "completed"}, "$.webhook_events"),
        ({"webhook_url": None}, "$.webhook_url"),
    ],
)
def test_a_bad_webhook_target_is_a_422_naming_its_field_and_creates_nothing(api, fields, path):
    response = api.client.post(
        "/v1/render-jobs", json=new_job_body(api, ALICE, STEM) | fields, headers=as_user(ALICE)
    )
    assert_error(response, 422, {"invalid_body"})
    assert [problem["path"] for problem in response.json()["error"]["problems"]] == [path]
    assert api.client.get("/v1/render-jobs", headers=as_user(ALICE)).json()["items"] == []


def test_a_job_shows_its_target_and_a_cancel_queues_its_completed_delivery(api):
    body = new_job_body(api, ALICE, STEM) | {
        "webhook_url": PUBLIC_URL,
        "webhook_events": ["started", "completed"],
    }
    created = api.client.post("/v1/render-jobs", json=body, headers=as_user(ALICE))
    assert created.status_code == 201, created.text
    assert created.json()["webhook"] == {
        "url": PUBLIC_URL,
        "events": ["started", "completed"],
        "last_attempt": None,
    }
    job_id = created.json()["id"]
    plain = api.client.post(f"/v1/render-jobs/{job_id}:clone", json={}, headers=as_user(ALICE))
    assert plain.json()["webhook"] is None  # a clone names its own target, or none

    api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=as_user(ALICE))
    api.client.post(f"/v1/render-jobs/{job_id}:cancel", headers=as_user(ALICE))  # again: no 2nd
    deliveries = [m for m in api.queued() if isinstance(m, WebhookDeliveryMessage)]
    assert [(m.job_id, m.event, m.attempt) for m in deliveries] == [
        (uuid.UUID(job_id), "completed", 1)
    ]


def test_each_user_has_one_secret(api):
    first = api.client.get("/v1/webhooks/default/secret", headers=as_user(ALICE))
    again = api.client.get("/v1/webhooks/default/secret", headers=as_user(ALICE))
    bobs = api.client.get("/v1/webhooks/default/secret", headers=as_user(BOB))
    assert first.status_code == 200 and first.json() == again.json()
    assert first.json()["key"].startswith("whsec_") and bobs.json() != first.json()
    assert_error(api.client.get("/v1/webhooks/default/secret"), 401, {"unauthenticated"})
