"""``RetryCounter``: counts each message Dramatiq queues again after a failure, by actor, in
the worker's metrics (``voxregen_worker_retries_total``).

Dramatiq's ``Retries`` middleware either queues a failed message again (with backoff) or marks
it failed; this middleware runs after it and counts the messages that failed and were not
marked failed. Add it with ``before=Retries``: Dramatiq runs ``after_*`` hooks in reverse
order (as :class:`~voxregen_worker.give_up.GiveUpMiddleware`).
"""

import dramatiq

from voxregen_adapters.dramatiq_job_queue import ACTOR_NAMES
from voxregen_worker.metrics import WorkerMetrics


class RetryCounter(dramatiq.Middleware):
    def __init__(self, metrics: WorkerMetrics) -> None:
        self._metrics = metrics

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if exception is not None and not message.failed and message.actor_name in ACTOR_NAMES:
            self._metrics.count_retry(message.actor_name)
