"""The code stored with a failed job or profile, for voxregen errors and any other."""

import pytest
from dramatiq.middleware.time_limit import TimeLimitExceeded

from voxregen_core.errors import DatabaseUnavailableError, NotAWavError
from voxregen_worker.error_codes import error_code


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotAWavError("x"), "not_a_wav"),
        (DatabaseUnavailableError("x"), "database_unavailable"),
        (TimeLimitExceeded(), "time_limit_exceeded"),
        (RuntimeError("x"), "runtime_error"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value,
)
def test_error_code(error, code):
    assert error_code(error) == code
