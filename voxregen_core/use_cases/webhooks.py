"""Webhooks' use cases: check a job's webhook target when it is created, queue a delivery when
something happens to a job, deliver one attempt (:mod:`voxregen_core.webhooks` has the
rules), and the user's signing secret."""

import random
import uuid

import attrs

from voxregen_core.errors import InvalidFieldError
from voxregen_core.job_document import job_document
from voxregen_core.jobs import RenderJob
from voxregen_core.messages import WebhookDeliveryMessage
from voxregen_core.ports import ServicePorts, WebhookSender
from voxregen_core.webhooks import (
    PROGRESS_INTERVAL_S,
    InvalidWebhookUrlError,
    WebhookAttempt,
    WebhookEvent,
    WebhookTarget,
    body,
    new_webhook_id,
    signed_headers,
)

RETRY_JITTER = 0.1
"""Each retry waits its scheduled time ±10 %, so that failures at one moment spread out."""


def checked_target(
    sender: WebhookSender, url: str | None, events: list[str] | None
) -> WebhookTarget | None:
    """The target a new job's ``webhook_url`` and ``webhook_events`` name (None without a URL);
    raises :class:`InvalidFieldError` for events without a URL, bad events or a URL the sender
    may not reach."""
    if url is None:
        if events is not None:
            raise InvalidFieldError("webhook_events", "webhook_events needs a webhook_url")
        return None
    target = WebhookTarget.from_request(url, events)
    try:
        sender.check_url(url)
    except InvalidWebhookUrlError as error:
        raise InvalidFieldError("webhook_url", error.message) from None
    return target


def notify(ports: ServicePorts, job: RenderJob, event: WebhookEvent) -> None:
    """Queue the job's ``event`` webhook if it asked for it."""
    if job.webhook is None or event not in job.webhook.events:
        return
    message = WebhookDeliveryMessage(
        user_id=job.user_id, job_id=job.id, event=event.value, webhook_id=new_webhook_id()
    )
    ports.queue.enqueue_webhook_delivery(message)


def deliver(
    ports: ServicePorts, message: WebhookDeliveryMessage, *, retry_schedule_s: tuple[float, ...]
) -> WebhookAttempt | None:
    """One attempt of the delivery ``message`` names: sign and POST the job as it is now,
    record the attempt on the job and queue the next attempt if this one may be retried.
    None if the job (or its webhook) is gone, or for a ``progress`` notice within
    :data:`PROGRESS_INTERVAL_S` of the job's last one (decided when it is about to be sent,
    so that notices queued behind other work do not go out together; a later notice, or the
    ``completed`` one, carries the newer state)."""
    job = ports.jobs.get(user_id=message.user_id, job_id=message.job_id)
    if job is None or job.webhook is None:
        return None
    now = ports.clock.now()
    event = WebhookEvent(message.event)
    first_progress = event is WebhookEvent.PROGRESS and message.attempt == 1
    if first_progress and not ports.jobs.claim_progress_notice(
        user_id=job.user_id, job_id=job.id, now=now, interval_s=PROGRESS_INTERVAL_S
    ):
        return None
    payload = body(event, job_document(job), now)
    secret = ports.webhook_secrets.secret_for(user_id=job.user_id)
    headers = signed_headers(secret, message.webhook_id, int(now.timestamp()), payload)
    started = ports.clock.now()
    try:
        ports.webhook_sender.check_url(job.webhook.url)  # again: it may resolve elsewhere now
        status_code, error = ports.webhook_sender.post(
            job.webhook.url, body=payload, headers=headers
        )
    except InvalidWebhookUrlError as refused:
        status_code, error = None, refused.message
    attempt = WebhookAttempt(
        event=event,
        webhook_id=message.webhook_id,
        attempt=message.attempt,
        at=now,
        status_code=status_code,
        duration_ms=(ports.clock.now() - started).total_seconds() * 1000.0,
        error=error,
    )
    ports.jobs.record_webhook_attempt(user_id=job.user_id, job_id=job.id, attempt=attempt)
    if attempt.retryable(len(retry_schedule_s)):
        wait_s = retry_schedule_s[message.attempt - 1]
        jittered_s = wait_s * random.uniform(1.0 - RETRY_JITTER, 1.0 + RETRY_JITTER)
        retry = attrs.evolve(message, attempt=message.attempt + 1)
        ports.queue.enqueue_webhook_delivery(retry, delay_s=jittered_s)
    return attempt


def webhook_secret(ports: ServicePorts, *, user_id: uuid.UUID) -> str:
    """The caller's signing secret (made the first time it is asked for)."""
    return ports.webhook_secrets.secret_for(user_id=user_id)
