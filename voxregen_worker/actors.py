"""The worker's Dramatiq actors, declared on a broker: ``profile_build``, ``render_turn`` and
``webhook``.

Each actor turns what it receives back into the typed message
(:func:`~voxregen_adapters.dramatiq_job_queue.decode_message`, which alone knows the wire format)
and calls :func:`~voxregen_worker.profile_build.profile_build`,
:func:`~voxregen_worker.webhook_delivery.deliver_webhook` or, for a render turn, the
:class:`~voxregen_worker.render_job.Renderer` on the unit of work the turn claims from the render
backlog (the fair share between users decides which: :mod:`voxregen_core.fair_share`). The
claim is released once the work is done; a turn that fails transiently is retried on the same
unit, and one that comes back from a killed worker takes the same unit again.

Only transient failures are retried, with exponential backoff (:class:`RetryPolicy`); any
other error, a spent retry budget or the time limit makes Dramatiq give up, and then
:class:`~voxregen_worker.give_up.GiveUpMiddleware` fails the job (or the profile build).
"""

from collections.abc import Callable

import attrs
import dramatiq
import structlog
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Retries

from voxregen_adapters.dramatiq_job_queue import (
    ACTOR_NAMES,
    QUEUE_NAMES,
    Message,
    RenderTurn,
    decode_message,
    render_backlog,
)
from voxregen_adapters.request_context import bound_request_id
from voxregen_adapters.service import Service
from voxregen_core.fair_share import RenderWork
from voxregen_core.messages import (
    ProfileBuildMessage,
    RenderChunkMessage,
    RenderJobMessage,
    WebhookDeliveryMessage,
)
from voxregen_worker.error_codes import TRANSIENT_ERRORS
from voxregen_worker.give_up import GiveUpMiddleware
from voxregen_worker.profile_build import abandon_profile_build, profile_build
from voxregen_worker.render_job import Renderer
from voxregen_worker.retry_counter import RetryCounter
from voxregen_worker.webhook_delivery import deliver_webhook


@attrs.frozen
class RetryPolicy:
    """Dramatiq's retry, backoff and time-limit options of the actors, in milliseconds."""

    max_retries: int = 8
    min_backoff_ms: int = 1_000
    """The first retry waits up to this; each next one up to twice as long."""
    max_backoff_ms: int = 120_000
    time_limit_ms: int = 20 * 60_000
    """Longer than an 8-minute stem's preparation or delivery, or one chunk, on a CPU."""

    def should_retry(self, retries: int, error: BaseException) -> bool:
        """Dramatiq's ``retry_when``: ``retries`` is how many were already made."""
        return isinstance(error, TRANSIENT_ERRORS) and retries < self.max_retries

    def actor_options(self, actor_name: str) -> dict[str, object]:
        return {
            "queue_name": QUEUE_NAMES[actor_name],
            "max_retries": self.max_retries,
            "min_backoff": self.min_backoff_ms,
            "max_backoff": self.max_backoff_ms,
            "time_limit": self.time_limit_ms,
            "retry_when": self.should_retry,
        }


def declare_actors(
    broker: RedisBroker,
    service: Service,
    renderer: Renderer,
    *,
    policy: RetryPolicy = RetryPolicy(),
) -> None:
    """Declare the actors on ``broker`` (and the give-up and retry-counting middleware); render
    turns claim their work from the broker's render backlog, and run it with its request id
    bound. The renderer's metrics are the worker's, which retries and webhook deliveries are
    counted in."""
    backlog = render_backlog(broker)

    def render(work: RenderWork) -> None:
        match work:
            case RenderJobMessage():
                renderer.render_job(work.user_id, work.job_id)
            case RenderChunkMessage():
                renderer.render_chunk(work.user_id, work.job_id, work.chunk_index)

    def run(message: Message) -> None:
        match message:
            case ProfileBuildMessage():
                with renderer.whole_audio:  # its references are decoded whole, not beside a stem
                    profile_build(service, message.user_id, message.profile_id)
            case RenderTurn():
                work = backlog.claim(message.turn_id)
                if work is None:  # a spare turn, or one whose unit another turn took
                    structlog.get_logger().info("render_turn_idle")
                    return
                with bound_request_id(work.request_id):
                    render(work)
                backlog.release(message.turn_id)
            case WebhookDeliveryMessage():
                deliver_webhook(service, message, metrics=renderer.metrics)

    def give_up(message: Message, error: BaseException) -> None:
        match message:
            case ProfileBuildMessage():
                abandon_profile_build(service, message.user_id, message.profile_id, error)
            case RenderTurn():
                work = backlog.claimed(message.turn_id)
                if work is not None:
                    with bound_request_id(work.request_id):
                        renderer.abandon(work.user_id, work.job_id, error)
                    backlog.release(message.turn_id)

    broker.add_middleware(GiveUpMiddleware(give_up), before=Retries)
    broker.add_middleware(RetryCounter(renderer.metrics), before=Retries)
    for name in ACTOR_NAMES:
        dramatiq.actor(
            _consumer(name, run), broker=broker, actor_name=name, **policy.actor_options(name)
        )


def _consumer(actor_name: str, run: Callable[[Message], None]) -> Callable[..., None]:
    """The function Dramatiq calls with a message's arguments for ``actor_name``: it runs the
    message with its request id bound (in the log context, and on the messages it queues)."""

    def consume(*args: object, **kwargs: object) -> None:
        message = decode_message(actor_name, args, kwargs)
        with bound_request_id(getattr(message, "request_id", None)):  # a turn has none
            run(message)

    consume.__name__ = consume.__qualname__ = actor_name
    return consume
