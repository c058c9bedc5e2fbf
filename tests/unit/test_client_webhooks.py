"""voxregen_client.verify_webhook against deliveries signed as the worker signs them
(voxregen_core.webhooks) and by the reference library (standardwebhooks), and the refusals:
another body, secret or id, a stale or future timestamp, missing headers."""

import base64
import json
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks

from voxregen_client import WebhookVerificationError, verify_webhook
from voxregen_core import webhooks

SECRET = webhooks.new_secret()
BODY = webhooks.body(
    webhooks.WebhookEvent.COMPLETED, {"id": "6b2e4d8f", "status": "done"}, datetime.now(UTC)
)


def _signed(*, timestamp_s: int | None = None, secret: str = SECRET, body: bytes = BODY):
    now_s = int(time.time()) if timestamp_s is None else timestamp_s
    return webhooks.signed_headers(secret, webhooks.new_webhook_id(), now_s, body)


def test_a_delivery_signed_by_the_worker_verifies_and_gives_its_payload():
    assert verify_webhook(_signed(), BODY, SECRET) == json.loads(BODY)


def test_a_delivery_signed_by_the_reference_library_verifies_and_headers_may_be_any_case():
    webhook_id, now = "msg_2b7d4c39", datetime.now(UTC)
    signature = standardwebhooks.Webhook(SECRET).sign(webhook_id, now, BODY.decode())
    headers = {
        "Webhook-Id": webhook_id,
        "WEBHOOK-TIMESTAMP": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert verify_webhook(headers, BODY.decode(), SECRET)["type"] == "render_job.completed"


def test_our_signature_verifies_with_the_reference_library_too():
    """The two agree in both directions: the client checks what the specification signs."""
    headers = _signed()
    assert standardwebhooks.Webhook(SECRET).verify(BODY, headers) == json.loads(BODY)


def test_one_matching_signature_among_several_is_enough():
    headers = _signed()
    other = _signed(secret=webhooks.new_secret())["webhook-signature"]
    headers["webhook-signature"] = f"{other} v2,abc {headers['webhook-signature']}"
    assert verify_webhook(headers, BODY, SECRET) == json.loads(BODY)


def test_another_body_secret_or_id_is_refused():
    headers = _signed()
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify_webhook(headers, BODY.replace(b"done", b"fail"), SECRET)
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify_webhook(headers, BODY, webhooks.new_secret())
    with pytest.raises(WebhookVerificationError, match="no signature matches"):
        verify_webhook(headers | {"webhook-id": "msg_other"}, BODY, SECRET)


@pytest.mark.parametrize("offset_s", [-301, 301])
def test_a_timestamp_outside_the_tolerance_is_refused(offset_s):
    now_s = time.time()
    headers = _signed(timestamp_s=int(now_s) + offset_s)
    with pytest.raises(WebhookVerificationError, match="more than 300 s from now"):
        verify_webhook(headers, BODY, SECRET, now_s=now_s)
    assert verify_webhook(headers, BODY, SECRET, now_s=now_s, tolerance_s=302) == json.loads(BODY)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing):
    headers = {name: value for name, value in _signed().items() if name != missing}
    with pytest.raises(WebhookVerificationError, match=f"missing header {missing}"):
        verify_webhook(headers, BODY, SECRET)


def test_a_malformed_timestamp_or_secret_is_refused():
    with pytest.raises(WebhookVerificationError, match="not an integer"):
        verify_webhook(_signed() | {"webhook-timestamp": "soon"}, BODY, SECRET)
    with pytest.raises(WebhookVerificationError, match="not whsec_ and base64"):
        verify_webhook(_signed(), BODY, "whsec_not base64!")
    raw_key = base64.b64decode(SECRET.removeprefix("whsec_"))
    bare = base64.b64encode(raw_key).decode()  # the secret without its prefix works too
    assert verify_webhook(_signed(), BODY, bare) == json.loads(BODY)
