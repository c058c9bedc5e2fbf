"""The ``webhook`` actor's work: one attempt of a job's webhook delivery
(:func:`voxregen_core.use_cases.webhooks.deliver`), logged and counted by outcome.

The log lines name the job's event ``webhook_event``: ``event`` is the line's own name in
structlog, which refuses a second one.
"""

import structlog

from voxregen_adapters.service import Service
from voxregen_core.messages import WebhookDeliveryMessage
from voxregen_core.use_cases.webhooks import deliver
from voxregen_core.webhooks import WebhookAttempt
from voxregen_worker.metrics import WebhookOutcome, WorkerMetrics


def deliver_webhook(
    service: Service, message: WebhookDeliveryMessage, *, metrics: WorkerMetrics
) -> None:
    schedule_s = service.settings.webhooks.retry_schedule_s
    with structlog.contextvars.bound_contextvars(
        job_id=str(message.job_id), user_id=str(message.user_id), stage="webhook"
    ):
        attempt = deliver(service, message, retry_schedule_s=schedule_s)
        log = structlog.get_logger()
        if attempt is None:
            metrics.count_webhook_delivery(event=message.event, outcome=WebhookOutcome.SKIPPED)
            log.info("webhook_not_sent", webhook_event=message.event, webhook_id=message.webhook_id)
            return
        retried = attempt.retryable(len(schedule_s))
        metrics.count_webhook_delivery(event=message.event, outcome=_outcome(attempt, retried))
        (log.info if attempt.delivered else log.warning)(
            "webhook_attempt",
            webhook_event=message.event,
            webhook_id=message.webhook_id,
            attempt=attempt.attempt,
            status_code=attempt.status_code,
            elapsed_ms=round(attempt.duration_ms, 1),
            error=attempt.error,
            retried=retried,
        )


def _outcome(attempt: WebhookAttempt, retried: bool) -> WebhookOutcome:
    if attempt.delivered:
        return WebhookOutcome.DELIVERED
    return WebhookOutcome.RETRYING if retried else WebhookOutcome.FAILED
