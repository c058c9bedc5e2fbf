"""The request id of the work in hand: bound by the API for a request, by the worker for a
message, read by the job queue to stamp every message it sends meanwhile.

The id is context, not a parameter: like the log context, it follows the work a request set
off without every use case passing it along. :func:`bound_request_id` sets it in a context
variable of its own (copied into the thread pool's threads with the rest of the context, as
Starlette runs the handlers there) and binds it as ``request_id`` in structlog's context
variables, so every log line written meanwhile carries it.
"""

import contextlib
import contextvars
from collections.abc import Iterator

import structlog

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "voxregen_request_id", default=None
)


def current_request_id() -> str | None:
    """The request id bound in this context, or None."""
    return _request_id.get()


@contextlib.contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """``request_id`` bound (for the job queue and in the log context) for the block. None
    unsets it for the job queue (the messages sent meanwhile carry none) and leaves the log
    context as it is."""
    token = _request_id.set(request_id)
    try:
        if request_id is None:
            yield
        else:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                yield
    finally:
        _request_id.reset(token)
