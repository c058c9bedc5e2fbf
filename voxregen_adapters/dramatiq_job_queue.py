"""``DramatiqJobQueue``: the :class:`~voxregen_core.ports.JobQueue` port over a Dramatiq broker.

The API process does not import the worker's actors (the two packages never import each
other), so messages are built by actor name for the set of names the caller declares. Every
voxregen actor consumes Dramatiq's ``default`` queue. Arguments are checked before anything is
sent: JSON primitives only (``str``, ``int``, ``float`` that is finite, ``bool``, ``None``; not
their subclasses, such as enums), so a message decodes in the worker to exactly what was sent.
"""

import math
from collections.abc import Collection

import dramatiq
import redis

from voxregen_core.errors import InvalidParamsError, QueueUnavailableError
from voxregen_core.ports import JsonPrimitive

QUEUE_NAME = "default"
_PRIMITIVES = (str, int, float, bool, type(None))


class DramatiqJobQueue:
    def __init__(self, broker: dramatiq.Broker, *, actor_names: Collection[str]) -> None:
        self._broker = broker
        self._actor_names = frozenset(actor_names)

    def enqueue(self, actor_name: str, *args: JsonPrimitive) -> None:
        """Send one message to ``actor_name``; raises InvalidParamsError for an unknown actor or
        a non-primitive argument (nothing is sent), QueueUnavailableError when Redis cannot be
        reached."""
        if actor_name not in self._actor_names:
            raise InvalidParamsError(
                f"unknown actor {actor_name!r}; known: {', '.join(sorted(self._actor_names))}"
            )
        for index, arg in enumerate(args):
            _check_primitive(actor_name, index, arg)
        message = dramatiq.Message(
            queue_name=QUEUE_NAME, actor_name=actor_name, args=args, kwargs={}, options={}
        )
        try:
            self._broker.enqueue(message)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise QueueUnavailableError(
                f"cannot queue {actor_name}: the job queue's Redis is unreachable ({error})"
            ) from error


def _check_primitive(actor_name: str, index: int, arg: object) -> None:
    if type(arg) not in _PRIMITIVES or (type(arg) is float and not math.isfinite(arg)):
        got = repr(arg) if type(arg) is float else type(arg).__name__
        raise InvalidParamsError(
            f"{actor_name} argument {index} must be a finite JSON primitive "
            f"(str, int, float, bool or None), got {got}"
        )
