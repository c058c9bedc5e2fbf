"""The stable code stored with a failed job or profile for any exception."""

from voxregen_core.errors import VoxregenError


def error_code(error: BaseException) -> str:
    """A voxregen error's own code, else the class name in snake case
    (Dramatiq's ``TimeLimitExceeded`` → ``time_limit_exceeded``)."""
    if isinstance(error, VoxregenError):
        return error.code
    name = type(error).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
