"""Unit conversions. Every conversion between decibels, gains, seconds and samples lives here.

Scalars in give floats out; arrays in give arrays out.
"""

import numpy as np


def db_to_gain(gain_db):
    """Amplitude gain for a level change in dB (20·log10 convention)."""
    gain = np.power(10.0, np.divide(gain_db, 20.0))
    return float(gain) if np.ndim(gain) == 0 else gain


def gain_to_db(gain):
    """Level in dB of an amplitude gain; a gain of 0 gives -inf (no warning)."""
    with np.errstate(divide="ignore"):
        level_db = 20.0 * np.log10(gain)
    return float(level_db) if np.ndim(level_db) == 0 else level_db


def power_to_db(power):
    """Level in dB of a power (mean-square) value (10·log10 convention); 0 gives -inf."""
    with np.errstate(divide="ignore"):
        level_db = 10.0 * np.log10(power)
    return float(level_db) if np.ndim(level_db) == 0 else level_db


def seconds_to_samples(duration_s: float, *, sample_rate_hz: int) -> int:
    """Whole number of samples in ``duration_s`` at ``sample_rate_hz`` (rounded to nearest)."""
    return int(round(duration_s * sample_rate_hz))


def samples_to_seconds(n_samples: int, *, sample_rate_hz: int) -> float:
    """Duration in seconds of ``n_samples`` at ``sample_rate_hz``."""
    return n_samples / sample_rate_hz
