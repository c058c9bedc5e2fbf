"""``GiveUpMiddleware``: when Dramatiq gives up on a message, let its actor clean up.

Dramatiq's ``Retries`` middleware marks a message failed when its ``retry_when`` refuses
another attempt (a non-transient error, or the retries are spent). This middleware runs
after it and calls its handler with the typed message (decoded as the actor decodes it) and
the last error (its request id bound, as while the actor ran), so that a job or profile is
moved to ``failed``/``error`` instead of staying ``running``/``building``. Add it with
``before=Retries``: Dramatiq runs ``after_*`` hooks in reverse order.
"""

from collections.abc import Callable

import dramatiq
import structlog

from voxregen_adapters.dramatiq_job_queue import ACTOR_NAMES, decode_message
from voxregen_adapters.request_context import bound_request_id
from voxregen_core.messages import JobMessage

GiveUpHandler = Callable[[JobMessage, BaseException], None]


class GiveUpMiddleware(dramatiq.Middleware):
    def __init__(self, handler: GiveUpHandler) -> None:
        self._handler = handler

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:
        if exception is None or not message.failed or message.actor_name not in ACTOR_NAMES:
            return
        try:
            decoded = decode_message(message.actor_name, message.args, message.kwargs)
            with bound_request_id(decoded.request_id):
                self._handler(decoded, exception)
        except Exception:
            structlog.get_logger().exception(
                "give_up_handler_failed",
                actor_name=message.actor_name,
                message_id=message.message_id,
            )
