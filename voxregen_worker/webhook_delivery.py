"""The ``webhook`` actor's work: one attempt of a job's webhook delivery
(:func:`voxregen_core.use_cases.webhooks.deliver`), logged."""

import structlog

from voxregen_adapters.service import Service
from voxregen_core.messages import WebhookDeliveryMessage
from voxregen_core.use_cases.webhooks import deliver


def deliver_webhook(service: Service, message: WebhookDeliveryMessage) -> None:
    schedule_s = service.settings.webhooks.retry_schedule_s
    with structlog.contextvars.bound_contextvars(
        job_id=str(message.job_id), user_id=str(message.user_id), stage="webhook"
    ):
        attempt = deliver(service, message, retry_schedule_s=schedule_s)
        log = structlog.get_logger()
        if attempt is None:
            log.info("webhook_not_sent", event=message.event, webhook_id=message.webhook_id)
            return
        (log.info if attempt.delivered else log.warning)(
            "webhook_attempt",
            event=message.event,
            webhook_id=message.webhook_id,
            attempt=attempt.attempt,
            status_code=attempt.status_code,
            elapsed_ms=round(attempt.duration_ms, 1),
            error=attempt.error,
            retried=attempt.retryable(len(schedule_s)),
        )
