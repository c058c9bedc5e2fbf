"""What a failed job or profile records of the exception that ended it: a stable code and a
message, and which exceptions are transient (retried before that)."""

from voxregen_core.errors import (
    DatabaseUnavailableError,
    QueueUnavailableError,
    StorageUnavailableError,
    VoxregenError,
)

TRANSIENT_ERRORS = (DatabaseUnavailableError, StorageUnavailableError, QueueUnavailableError)
"""Failures that the same message may not meet again: Dramatiq retries these, and only these."""


def error_code(error: BaseException) -> str:
    """A voxregen error's own code, else the class name in snake case
    (Dramatiq's ``TimeLimitExceeded`` → ``time_limit_exceeded``)."""
    if isinstance(error, VoxregenError):
        return error.code
    name = type(error).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def error_message(error: BaseException) -> str:
    """The message of a job failed by ``error`` after Dramatiq gave up on its message: a
    transient error says it was retried, another voxregen error says only what it says (it
    was tried once), and anything else (a bug, the time limit) also names its type."""
    if isinstance(error, TRANSIENT_ERRORS):
        return f"gave up after retrying: {error}"
    if isinstance(error, VoxregenError):
        return str(error)
    return f"{type(error).__name__}: {error}"
