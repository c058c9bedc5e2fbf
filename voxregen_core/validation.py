"""Argument checks shared by the DSP entry points, with messages naming the value."""

import numpy as np

from voxregen_core.errors import InvalidParamsError


def checked_sample_rate_hz(sample_rate_hz: int, *, minimum_hz: int = 1) -> int:
    """``sample_rate_hz`` as an int; InvalidParamsError unless it is a whole number >= minimum_hz."""
    if (
        isinstance(sample_rate_hz, bool)
        or not isinstance(sample_rate_hz, int | np.integer)
        or sample_rate_hz < minimum_hz
    ):
        raise InvalidParamsError(
            f"sample_rate_hz must be an integer >= {minimum_hz}, got {sample_rate_hz!r}"
        )
    return int(sample_rate_hz)


def checked_mono_float(x: np.ndarray, *, name: str = "x") -> np.ndarray:
    """``x`` as an array; InvalidParamsError unless it is 1-D floating point."""
    x = np.asarray(x)
    if x.ndim != 1 or not np.issubdtype(x.dtype, np.floating):
        raise InvalidParamsError(
            f"{name} must be a 1-D float array, got {x.dtype} of shape {x.shape}"
        )
    return x


def check_overwritable(x: np.ndarray) -> None:
    """InvalidParamsError unless ``x`` can be worked on in its own memory (``overwrite_x``):
    a contiguous, writeable float32 array."""
    if x.dtype != np.float32 or not x.flags.c_contiguous or not x.flags.writeable:
        raise InvalidParamsError("overwrite_x needs a contiguous, writeable float32 x")
