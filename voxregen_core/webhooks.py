"""Webhooks: a render job tells the producer's platform when it starts, progresses and ends, by
signed POSTs that follow the Standard Webhooks specification (standardwebhooks.com).

- A job asks for them with a URL and events (:class:`WebhookTarget`): ``started``, ``progress``
  (at most once a second) and ``completed`` (done, failed or canceled).
- Each delivery is a POST of ``{"type": "render_job.<event>", "timestamp", "data": <the job as
  GET shows it>}`` with the headers ``webhook-id`` (the same on every retry of one delivery),
  ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
  "id.timestamp.body">``) keyed by the user's secret (``whsec_<base64>``, :func:`new_secret`).
- The worker sends them, never the API request. An attempt that times out, cannot connect or
  gets a non-2xx answer is retried on :data:`RETRY_SCHEDULE_S` with ±10 % jitter; a 410 Gone
  stops the retries. Each attempt is recorded on the job (:class:`WebhookAttempt`).
"""

import base64
import enum
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from voxregen_core.errors import InvalidFieldError, VoxregenError

RETRY_SCHEDULE_S = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)
"""The specification's schedule: the waits before the retries of a failed delivery."""
PROGRESS_INTERVAL_S = 1.0
"""``progress`` is sent at most this often per job."""
TIMEOUT_S = 10.0
MAX_URL_CHARS = 2000
SECRET_PREFIX = "whsec_"


class WebhookEvent(enum.StrEnum):
    STARTED = "started"
    PROGRESS = "progress"
    COMPLETED = "completed"


DEFAULT_EVENTS = (WebhookEvent.COMPLETED,)


class InvalidWebhookUrlError(VoxregenError):
    """Raised when a webhook URL is not http(s), or reaches a loopback, private, link-local or
    metadata address and private networks are not allowed."""

    code = "invalid_webhook_url"


@attrs.frozen
class WebhookTarget:
    """Where a job's webhooks go, and which events."""

    url: str
    events: tuple[WebhookEvent, ...] = DEFAULT_EVENTS

    @classmethod
    def from_request(cls, url: str, events: Sequence[str] | None) -> "WebhookTarget":
        """The target a request names; raises :class:`InvalidFieldError` for an unknown or
        repeated event, or an empty list."""
        chosen = DEFAULT_EVENTS if events is None else tuple(events)
        known = {event.value for event in WebhookEvent}
        unknown = [event for event in chosen if event not in known]
        if unknown or not chosen or len(set(chosen)) != len(chosen):
            raise InvalidFieldError(
                "webhook_events",
                f"expected one or more of {', '.join(sorted(known))}, each once; got {list(chosen)}",
            )
        if len(url) > MAX_URL_CHARS:
            raise InvalidFieldError("webhook_url", f"expected at most {MAX_URL_CHARS} characters")
        return cls(url=url, events=tuple(WebhookEvent(event) for event in chosen))

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "events": [event.value for event in self.events]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WebhookTarget":
        return cls(url=data["url"], events=tuple(WebhookEvent(e) for e in data["events"]))


@attrs.frozen
class WebhookAttempt:
    """One POST of a delivery: its HTTP status (None if none came), how long it took, and why
    it failed (None for a 2xx)."""

    event: WebhookEvent
    webhook_id: str
    attempt: int
    at: datetime
    status_code: int | None
    duration_ms: float
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def retryable(self, retries: int = len(RETRY_SCHEDULE_S)) -> bool:
        """Not delivered, not refused for good (410 Gone), and one of ``retries`` left."""
        return not self.delivered and self.status_code != 410 and self.attempt <= retries

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WebhookAttempt":
        return cls(
            event=WebhookEvent(data["event"]),
            webhook_id=data["webhook_id"],
            attempt=data["attempt"],
            at=datetime.fromisoformat(data["at"]),
            status_code=data["status_code"],
            duration_ms=data["duration_ms"],
            error=data["error"],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event.value,
            "webhook_id": self.webhook_id,
            "attempt": self.attempt,
            "at": self.at.isoformat(),
            "status_code": self.status_code,
            "duration_ms": round(self.duration_ms, 1),
            "error": self.error,
        }


def new_secret() -> str:
    """A signing secret as the specification writes it: ``whsec_`` and 24 random bytes in
    base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def body(event: WebhookEvent, job_document: dict[str, Any], now: datetime) -> bytes:
    """The POST body of one delivery."""
    payload = {
        "type": f"render_job.{event.value}",
        "timestamp": now.isoformat(),
        "data": job_document,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(
    secret: str, webhook_id: str, timestamp_s: int, payload: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers of ``payload``, signed with ``secret``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{webhook_id}.{timestamp_s}.".encode() + payload
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": f"v1,{signature}",
        "content-type": "application/json",
    }
