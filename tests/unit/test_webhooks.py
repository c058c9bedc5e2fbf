"""Webhook signing and targets (voxregen_core/webhooks.py): signatures verified by the
``standardwebhooks`` reference library, not by our own code."""

from datetime import UTC, datetime

import pytest
import standardwebhooks

from voxregen_core.errors import InvalidFieldError
from voxregen_core.webhooks import (
    RETRY_SCHEDULE_S,
    WebhookAttempt,
    WebhookEvent,
    WebhookTarget,
    body,
    new_secret,
    new_webhook_id,
    signed_headers,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_a_delivery_verifies_with_the_standard_webhooks_library():
    secret = new_secret()
    payload = body(WebhookEvent.COMPLETED, {"id": "j", "status": "done"}, NOW)
    headers = signed_headers(secret, new_webhook_id(), int(datetime.now(UTC).timestamp()), payload)

    verified = standardwebhooks.Webhook(secret).verify(payload, headers)
    assert verified == {
        "type": "render_job.completed",
        "timestamp": NOW.isoformat(),
        "data": {"id": "j", "status": "done"},
    }
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret()).verify(payload, headers)  # another user's secret
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(payload.replace(b"done", b"fail"), headers)


def test_a_secret_is_whsec_and_24_random_bytes():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second and len(first) == 6 + 32


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ([], "webhook_events"),
        (["done"], "webhook_events"),
        (["started", "started"], "webhook_events"),
    ],
)
def test_a_target_refuses_unknown_repeated_or_no_events(events, field):
    with pytest.raises(InvalidFieldError) as refused:
        WebhookTarget.from_request("https://example.com/hook", events)
    assert refused.value.field == field


def test_a_target_defaults_to_completed_and_round_trips():
    target = WebhookTarget.from_request("https://example.com/hook", None)
    assert target.events == (WebhookEvent.COMPLETED,)
    chosen = WebhookTarget.from_request("https://example.com/h", ["progress", "started"])
    assert WebhookTarget.from_json(chosen.to_json()) == chosen


@pytest.mark.parametrize(
    ("status_code", "attempt", "retryable"),
    [(200, 1, False), (204, 3, False), (500, 1, True), (None, 2, True), (410, 1, False)]
    + [(503, len(RETRY_SCHEDULE_S), True), (503, len(RETRY_SCHEDULE_S) + 1, False)],
)
def test_what_is_retried(status_code, attempt, retryable):
    outcome = WebhookAttempt(WebhookEvent.COMPLETED, "msg_x", attempt, NOW, status_code, 1.0, None)
    assert outcome.retryable() is retryable
