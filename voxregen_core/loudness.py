"""Integrated loudness (ITU-R BS.1770-4), vectorized and streaming.

K-weighting (a high shelf then a high-pass, §2.1) is applied in 4 s steps
(:mod:`voxregen_core.iir`: float32 block products, float64 state) with the filter state carried
between them; only the mean square of each complete 100 ms sub-block is kept, and
four consecutive sub-blocks make one 400 ms gating block (75 % overlap, §2.4). Memory stays a few
MB whatever the length. int16 arrays are read as PCM (value / 32768, see
:mod:`voxregen_core.export`).
"""

import math

import attrs
import numpy as np

from voxregen_core import iir
from voxregen_core.errors import InvalidParamsError, NonFiniteSamplesError
from voxregen_core.export import float_scale
from voxregen_core.parallelism import map_on_cores
from voxregen_core.units import db_to_gain, power_to_db, seconds_to_samples
from voxregen_core.validation import checked_sample_rate_hz

ABSOLUTE_GATE_LUFS = -70.0
"""BS.1770-4 §2.8: blocks at or below this level never count."""

RELATIVE_GATE_LU = -10.0
"""BS.1770-4 §2.8: blocks more than 10 LU below the absolute-gated loudness do not count."""

GATE_JITTER_LU = 0.05
"""How far another meter's gates may sit from ours: each rounds block levels its own way (ffmpeg's
``ebur128`` gates on a histogram of them), so a block within this of a gate may count on one
meter and not on another."""

_LOUDNESS_OFFSET_DB = -0.691
"""BS.1770-4 eq. 2: L = -0.691 + 10 log10(sum of weighted channel mean squares)."""

_SUB_BLOCK_S = 0.1
_SUB_BLOCKS_PER_BLOCK = 4
"""400 ms gating blocks with a 100 ms step: each block is 4 consecutive 100 ms sub-blocks."""

_SUB_BLOCKS_PER_STEP = 40
"""Sub-blocks filtered per step (4 s): bounds the temporaries."""

_SEGMENT_SUB_BLOCKS = 300
"""Sub-blocks per segment filtered on its own thread (30 s)."""

_WARM_UP_SUB_BLOCKS = 10
"""Lead-in of each segment after the first (1 s)."""

_MIN_SAMPLE_RATE_HZ = 8000


def k_weighting_sos(*, sample_rate_hz: int) -> np.ndarray:
    """BS.1770-4 K-weighting as second-order sections (shelf, then high-pass) for any rate.

    The analog prototypes are those libebur128 derives from the standard's 48 kHz table (shelf at
    1681.97 Hz, +4.0 dB; high-pass at 38.14 Hz), mapped with the bilinear transform; at 48 kHz the
    result equals the table of BS.1770-4 Table 1 and Table 2.

    Returns np.ndarray [shape=(2, 6)], float64, rows ``[b0, b1, b2, 1, a1, a2]``.
    """
    checked_sample_rate_hz(sample_rate_hz, minimum_hz=_MIN_SAMPLE_RATE_HZ)
    k = math.tan(math.pi * 1681.974450955533 / sample_rate_hz)
    q = 0.7071752369554196
    vh = db_to_gain(3.999843853973347)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    k = math.tan(math.pi * 38.13547087602444 / sample_rate_hz)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    high_pass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, high_pass])


@attrs.frozen
class LoudnessReading:
    """An integrated loudness, and how much it depends on exactly where the gates sit."""

    lufs: float
    """BS.1770-4 gated integrated loudness; ``-inf`` when no block passes the gates."""
    gate_sensitivity_lu: float
    """The most the reading moves when both gates move by ±``GATE_JITTER_LU`` (``inf`` if it
    then gates out or in): large when a block that matters sits on a gate, where another meter
    can read the same file LUs apart. A long stem's is a few thousandths."""


def integrated_loudness_lufs(
    x: np.ndarray, *, sample_rate_hz: int, dual_mono: bool = False
) -> float:
    """Gated integrated loudness in LUFS (BS.1770-4), or ``-inf`` when no block passes the gates
    (:func:`integrated_loudness`'s reading)."""
    return integrated_loudness(x, sample_rate_hz=sample_rate_hz, dual_mono=dual_mono).lufs


def integrated_loudness(
    x: np.ndarray, *, sample_rate_hz: int, dual_mono: bool = False
) -> LoudnessReading:
    """Gated integrated loudness (BS.1770-4) and its sensitivity to the gates.

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples,) or (n_samples, n_channels)], float or int16 PCM; at most two
        channels, each weighted 1.0 (L, R)
    sample_rate_hz : rate of ``x`` (8 kHz or more)
    dual_mono : measure mono ``x`` as the stereo file with L = R = x would measure: the channel
        power counts twice (+3.01 dB), without building the stereo copy

    Only complete 400 ms blocks count, so silence and input shorter than 400 ms read ``-inf``;
    the result is never NaN.
    """
    x = np.asarray(x)
    if x.dtype != np.int16 and not np.issubdtype(x.dtype, np.floating):
        raise InvalidParamsError(f"x must be float or int16 PCM, got dtype {x.dtype}")
    if x.ndim == 1:
        channels = [x]
    elif x.ndim == 2 and 1 <= x.shape[1] <= 2:
        channels = [x[:, channel] for channel in range(x.shape[1])]
    else:
        raise InvalidParamsError(f"x must be (n,) or (n, 1 or 2 channels), got shape {x.shape}")
    if dual_mono and len(channels) != 1:
        raise InvalidParamsError(f"dual_mono measures a mono signal, got {len(channels)} channels")
    powers = sum(_subblock_powers(channel, sample_rate_hz=sample_rate_hz) for channel in channels)
    if dual_mono:
        powers = 2.0 * powers  # BS.1770-4 eq. 2: L and R both weighted 1.0
    lufs = _gated_loudness_lufs(powers)
    shifted = [
        _gated_loudness_lufs(powers, gate_shift_lu=shift)
        for shift in (-GATE_JITTER_LU, GATE_JITTER_LU)
    ]
    if all(math.isinf(reading) for reading in (lufs, *shifted)):
        return LoudnessReading(lufs, gate_sensitivity_lu=0.0)
    sensitivity_lu = max(abs(reading - lufs) for reading in shifted)
    return LoudnessReading(lufs, gate_sensitivity_lu=sensitivity_lu)


def _subblock_powers(x: np.ndarray, *, sample_rate_hz: int) -> np.ndarray:
    """Mean square of the K-weighted signal over each complete 100 ms sub-block.

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples,)], float or int16 PCM (one channel)

    Returns np.ndarray [shape=(n_samples // round(sample_rate_hz / 10),)], float64.

    The filter starts at rest on the first sample, as libebur128's does. Segments of
    ``_SEGMENT_SUB_BLOCKS`` run on all cores: each after the first starts at rest
    ``_WARM_UP_SUB_BLOCKS`` earlier, by the end of which the state it started from has decayed
    to nothing (the slowest pole, the 38 Hz high-pass's, takes it below 1e-100 in a second), so
    the powers are the one-pass powers to within rounding.
    """
    k_weighting = iir.cascade(k_weighting_sos(sample_rate_hz=sample_rate_hz))  # checks the rate
    length = _sub_block_samples(sample_rate_hz)
    n_sub_blocks = x.shape[0] // length
    powers = np.empty(n_sub_blocks)
    scale = float_scale(x.dtype)

    def segment(first: int) -> None:
        stop = min(first + _SEGMENT_SUB_BLOCKS, n_sub_blocks)
        lead_in = x[max(0, first - _WARM_UP_SUB_BLOCKS) * length : first * length]
        _, state = k_weighting.filter(lead_in, np.zeros(k_weighting.n_states))  # from rest
        for step in range(first, stop, _SUB_BLOCKS_PER_STEP):
            step_stop = min(step + _SUB_BLOCKS_PER_STEP, stop)
            weighted, state = k_weighting.filter(x[step * length : step_stop * length], state)
            weighted = weighted.reshape(-1, length).astype(np.float64)
            powers[step:step_stop] = np.einsum("ij,ij->i", weighted, weighted) * (
                scale * scale / length
            )

    map_on_cores(segment, range(0, n_sub_blocks, _SEGMENT_SUB_BLOCKS))
    if not np.isfinite(powers).all():
        raise NonFiniteSamplesError("x holds NaN or infinite samples")
    return powers


def _gated_loudness_lufs(subblock_powers: np.ndarray, *, gate_shift_lu: float = 0.0) -> float:
    """BS.1770-4 §2.8 gating of 400 ms blocks built from channel-summed 100 ms mean squares.

    Parameters
    ----------
    subblock_powers : np.ndarray [shape=(n_sub_blocks,)], float64, weighted sum over channels of
        each 100 ms sub-block's K-weighted mean square
    gate_shift_lu : both gates moved by this much (0: the standard's)

    Returns the integrated loudness in LUFS, ``-inf`` when no block passes the gates.
    """
    if subblock_powers.shape[0] < _SUB_BLOCKS_PER_BLOCK:
        return float("-inf")  # shorter than one complete 400 ms block
    windows = np.lib.stride_tricks.sliding_window_view(subblock_powers, _SUB_BLOCKS_PER_BLOCK)
    block_powers = windows.mean(axis=1)  # BS.1770-4 eq. 1: mean square over the 400 ms block
    absolute = _power(ABSOLUTE_GATE_LUFS + gate_shift_lu)
    gated = block_powers[block_powers > absolute]  # BS.1770-4 eq. 4, absolute gate
    if gated.size == 0:
        return float("-inf")
    relative = gated.mean() * db_to_gain(RELATIVE_GATE_LU + gate_shift_lu) ** 2
    gated = gated[gated > relative]  # BS.1770-4 eq. 5-6, relative gate
    return _LOUDNESS_OFFSET_DB + power_to_db(gated.mean())


def _power(level_lufs: float) -> float:
    """Block power whose loudness is ``level_lufs`` (inverse of BS.1770-4 eq. 2)."""
    return db_to_gain(level_lufs - _LOUDNESS_OFFSET_DB) ** 2


def _sub_block_samples(sample_rate_hz: int) -> int:
    return seconds_to_samples(_SUB_BLOCK_S, sample_rate_hz=sample_rate_hz)
