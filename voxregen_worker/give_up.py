"""``GiveUpMiddleware``: when Dramatiq gives up on a message, let its actor clean up.

Dramatiq's ``Retries`` middleware marks a message failed when its ``retry_when`` refuses
another attempt (a non-transient error, or the retries are spent). This middleware runs
after it and calls the handler registered for the message's actor with the message's
arguments and the last error, so that a job or profile is moved to ``failed``/``error``
instead of staying ``running``/``building``. Add it with ``before=Retries``: Dramatiq runs
``after_*`` hooks in reverse order.
"""

from collections.abc import Callable, Mapping

import dramatiq
import structlog

GiveUpHandler = Callable[[tuple, BaseException], None]


class GiveUpMiddleware(dramatiq.Middleware):
    def __init__(self, handlers: Mapping[str, GiveUpHandler]) -> None:
        self._handlers = dict(handlers)

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        handler = self._handlers.get(message.actor_name)
        if exception is None or not message.failed or handler is None:
            return
        try:
            handler(tuple(message.args), exception)
        except Exception:
            structlog.get_logger().exception(
                "give_up_handler_failed",
                actor_name=message.actor_name,
                message_id=message.message_id,
            )
