"""The worker's Dramatiq actors, declared on a broker: ``profile_build``, ``render_job`` and
``render_chunk``.

Messages carry ids as strings (:mod:`voxregen_adapters.actor_names`); each actor parses them and
calls :func:`~voxregen_worker.profile_build.profile_build` or the
:class:`~voxregen_worker.render_job.Renderer`, which do the work over the service's ports.

Only transient failures are retried, with exponential backoff (:class:`RetryPolicy`); any
other error, a spent retry budget or the time limit makes Dramatiq give up, and then
:class:`~voxregen_worker.give_up.GiveUpMiddleware` fails the job (or the profile build).
"""

import uuid

import attrs
import dramatiq
from dramatiq.middleware import Retries

from voxregen_adapters import actor_names
from voxregen_adapters.dramatiq_job_queue import QUEUE_NAME
from voxregen_adapters.service import Service
from voxregen_worker.error_codes import TRANSIENT_ERRORS
from voxregen_worker.give_up import GiveUpMiddleware
from voxregen_worker.profile_build import abandon_profile_build, profile_build
from voxregen_worker.render_job import Renderer


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

    def actor_options(self) -> dict[str, object]:
        return {
            "queue_name": QUEUE_NAME,
            "max_retries": self.max_retries,
            "min_backoff": self.min_backoff_ms,
            "max_backoff": self.max_backoff_ms,
            "time_limit": self.time_limit_ms,
            "retry_when": self.should_retry,
        }


def declare_actors(
    broker: dramatiq.Broker,
    service: Service,
    renderer: Renderer,
    *,
    policy: RetryPolicy = RetryPolicy(),
) -> None:
    """Declare the actors on ``broker`` (and the give-up middleware)."""

    def profile_build_message(user_id: str, profile_id: str) -> None:
        profile_build(service, uuid.UUID(user_id), uuid.UUID(profile_id))

    def render_job_message(user_id: str, job_id: str) -> None:
        renderer.render_job(uuid.UUID(user_id), uuid.UUID(job_id))

    def render_chunk_message(user_id: str, job_id: str, chunk_index: int) -> None:
        renderer.render_chunk(uuid.UUID(user_id), uuid.UUID(job_id), chunk_index)

    def give_up_profile_build(args: tuple, error: BaseException) -> None:
        user_id, profile_id = args
        abandon_profile_build(service, uuid.UUID(user_id), uuid.UUID(profile_id), error)

    def give_up_render(args: tuple, error: BaseException) -> None:
        user_id, job_id = args[:2]
        renderer.abandon(uuid.UUID(user_id), uuid.UUID(job_id), error)

    broker.add_middleware(
        GiveUpMiddleware(
            {
                actor_names.PROFILE_BUILD: give_up_profile_build,
                actor_names.RENDER_JOB: give_up_render,
                actor_names.RENDER_CHUNK: give_up_render,
            }
        ),
        before=Retries,
    )
    options = policy.actor_options()
    for name, function in (
        (actor_names.PROFILE_BUILD, profile_build_message),
        (actor_names.RENDER_JOB, render_job_message),
        (actor_names.RENDER_CHUNK, render_chunk_message),
    ):
        dramatiq.actor(function, broker=broker, actor_name=name, **options)
