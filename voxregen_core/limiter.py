"""True-peak limiter: offline, look-ahead, detection on the oversampled signal, gain at the base rate.

One pass over a signal ``x`` with a linear threshold ``t``:

1. Required reduction, in dB, per sample: ``d[n] = max(0, 20 log10(env[n] / t))``, where ``env``
   is the true-peak envelope (:func:`~voxregen_core.true_peak.samples_over`: only candidate
   blocks oversampled, only the samples over ``t`` kept).
2. Release: ``r[n] = max_k d[k] * a**(n - k)`` over ``k <= n`` — the reduction decays
   exponentially with time constant ``release_ms`` — computed as a cumulative max in the log
   domain: ``log r[n] = n log a + cummax_k(log d[k] - k log a)``.
3. Attack: ``m`` = max of ``r`` over the next ``La + 1`` samples, then ``s`` = mean of ``m`` over
   the last ``La + 1`` samples (``La``: look-ahead). Every ``m`` in the window ending at ``n``
   covers ``n``, so ``s[n] >= r[n] >= d[n]``, and ``s`` ramps up smoothly over the ``La`` samples
   before each peak.
4. ``x[n] *= 10 ** (-s[n] / 20)``.

Step 1 runs over the whole signal before any gain is applied; steps 2–4 then run in chunks of 64
blocks with the release state carried between them, and chunks with nothing over the threshold
and a negligible release tail are skipped, so a signal that needs no limiting is returned
untouched. (A vocal's peaks are sparse: on the 8-minute bench stem, two chunks of 352 need a
gain, so the pass costs step 1's bounds and candidate blocks, searched on all cores: 25 ms.)

The threshold sits below the ceiling by the largest amount an ``L``-times oversampled grid can
under-read a signal band-limited to the base rate's Nyquist frequency: at the true peak ``t0``
the slope is zero and Bernstein's inequality bounds the curvature by ``(2 pi W)^2`` times the peak,
so a grid point within ``1 / (2 L fs)`` reads at least ``1 - (pi / (2 L))^2 / 2`` of it (0.17 dB
at 8x). A verification pass repeats the procedure on the output; it removes the thousandths of a
dB that applying the gain per sample (rather than between samples) can leave.

A caller that meters the result itself on a grid of the same or a coarser oversampling (BS.1770's
4x, ffmpeg's, an 8x reference) can ask for the ceiling on the detector's grid instead
(``ceiling_on_grid``): the allowance is not taken, and the headroom it would cost is used.
Mastering does, and verifies the delivered file on its meters.
"""

import math

import attrs
import numpy as np

from voxregen_core.errors import InvalidParamsError, VoxregenError
from voxregen_core.true_peak import BLOCK_SAMPLES, samples_over
from voxregen_core.units import db_to_gain, gain_to_db, seconds_to_samples
from voxregen_core.validation import checked_mono_float, checked_sample_rate_hz

_CHUNK_SAMPLES = 64 * BLOCK_SAMPLES
"""Samples per chunk of steps 2–4."""

_NEGLIGIBLE_DB = 1e-5
"""A release tail below this many dB is dropped (a gain step of about 1e-6)."""

_AIM_BELOW_DB = 0.002
"""Reductions aim this far under the threshold, so float32 rounding and the per-sample gain steps
seldom leave anything for the verification pass to do."""

_FILTER_ALLOWANCE_DB = 0.003
"""Passband deviation of the interpolation filter below 20 kHz (±0.001 dB, docs/mastering.md),
with room to spare."""

_MAX_PASSES = 4


@attrs.frozen(eq=False)
class LimiterResult:
    """Output of :func:`limit_true_peak`.

    audio : np.ndarray [shape=(n_samples,)], float32, same rate as the input
    max_gain_reduction_db : deepest reduction applied, >= 0
    """

    audio: np.ndarray
    max_gain_reduction_db: float


def limit_true_peak(
    x: np.ndarray,
    *,
    sample_rate_hz: int,
    ceiling_dbtp: float,
    lookahead_ms: float = 2.0,
    release_ms: float = 60.0,
    oversample: int = 8,
    ceiling_on_grid: bool = False,
) -> LimiterResult:
    """Limit ``x`` so that its true peak (BS.1770-4 Annex 2) does not exceed ``ceiling_dbtp``.

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples,)], float
    sample_rate_hz : rate of ``x``
    ceiling_dbtp : the true-peak ceiling; holds for any meter that interpolates content below
        20 kHz (at 48 kHz) faithfully, including ideal band-limited interpolation
    lookahead_ms : attack time, spread before each peak (0.1–20 ms)
    release_ms : time constant of the reduction's exponential decay (1–2000 ms)
    oversample : oversampling of the peak detector (4–32)
    ceiling_on_grid : hold the ceiling on the detector's ``oversample``-times grid rather than
        on the ideal reconstruction (module docstring), for a caller that meters the result

    A signal whose true peak is already well under the ceiling (by more than the filter's and
    the detector's grid allowance: 0.18 dB at 8x, 0.003 dB with ``ceiling_on_grid``) comes back
    unchanged, sample for sample.
    """
    x = checked_mono_float(x)
    audio = x.astype(np.float32, copy=True)
    reduction_db = limit_in_place(
        audio,
        sample_rate_hz=sample_rate_hz,
        ceiling_dbtp=ceiling_dbtp,
        lookahead_ms=lookahead_ms,
        release_ms=release_ms,
        oversample=oversample,
        ceiling_on_grid=ceiling_on_grid,
    )
    return LimiterResult(audio=audio, max_gain_reduction_db=reduction_db)


def limit_in_place(
    audio: np.ndarray,
    *,
    sample_rate_hz: int,
    ceiling_dbtp: float,
    lookahead_ms: float = 2.0,
    release_ms: float = 60.0,
    oversample: int = 8,
    ceiling_on_grid: bool = False,
) -> float:
    """:func:`limit_true_peak` on a float32 array the caller owns, changed in place.

    Returns the deepest gain reduction applied, in dB (>= 0). Lets a caller that already holds a
    fresh copy (mastering) avoid another full-length one.
    """
    _check(sample_rate_hz, ceiling_dbtp, lookahead_ms, release_ms, oversample)
    if audio.dtype != np.float32 or audio.ndim != 1:
        raise InvalidParamsError(
            f"audio must be 1-D float32, got {audio.dtype} of shape {audio.shape}"
        )
    grid_allowance = 1.0 if ceiling_on_grid else 1.0 - (math.pi / (2 * oversample)) ** 2 / 2.0
    threshold = db_to_gain(ceiling_dbtp - _FILTER_ALLOWANCE_DB) * grid_allowance
    lookahead_samples = max(
        1, seconds_to_samples(lookahead_ms / 1000.0, sample_rate_hz=sample_rate_hz)
    )
    log_decay = -1.0 / (release_ms / 1000.0 * sample_rate_hz)  # log of a: 1/e per release time
    total_db = 0.0
    for _ in range(_MAX_PASSES):
        deepest_db = _limit_pass(
            audio,
            threshold=threshold,
            lookahead_samples=lookahead_samples,
            log_decay=log_decay,
            oversample=oversample,
        )
        if deepest_db == 0.0:
            return total_db
        total_db += deepest_db
    raise VoxregenError(
        f"limiter left true peaks over {ceiling_dbtp} dBTP after {_MAX_PASSES} passes"
    )


def _limit_pass(
    audio: np.ndarray,
    *,
    threshold: float,
    lookahead_samples: int,
    log_decay: float,
    oversample: int,
) -> float:
    """One analysis-and-gain pass (module docstring, steps 1–4); returns the deepest reduction."""
    n = audio.shape[0]
    la = lookahead_samples
    # Step 1 for the whole pass at once, before any gain: every chunk's gains are then those of
    # the signal as the pass found it, whichever chunks are changed first.
    positions, peaks = samples_over(audio, oversample=oversample, above=threshold)
    required_at_db = gain_to_db(peaks / threshold) + _AIM_BELOW_DB
    carry_index, carry_log = -1, -math.inf  # log of the release value r at carry_index
    deepest_db = 0.0
    for start in range(0, n, _CHUNK_SAMPLES):
        stop = min(start + _CHUNK_SAMPLES, n)
        first, last = start - la, stop + la  # the chunk's gains depend on samples [first, last)
        lo, hi = np.searchsorted(positions, (first, last))
        carried_log = carry_log + (first - carry_index) * log_decay  # log r at `first`
        if lo == hi and carried_log <= math.log(_NEGLIGIBLE_DB):
            continue
        required_db = np.zeros(last - first, np.float32)
        required_db[positions[lo:hi] - first] = required_at_db[lo:hi]
        log_release = _log_release_db(required_db, carried_log=carried_log, log_decay=log_decay)
        carry_index, carry_log = stop - la - 1, float(log_release[stop - la - 1 - first])
        smoothed_db = _attack_db(np.exp(log_release), lookahead_samples=la)
        deepest_db = max(deepest_db, float(smoothed_db.max()))
        audio[start:stop] *= db_to_gain(-smoothed_db)
    return deepest_db


def _log_release_db(required_db: np.ndarray, *, carried_log: float, log_decay: float) -> np.ndarray:
    """Step 2: ``log r`` over the span, given ``log r`` at its first sample from before it.

    float32: the exponents stay under ~25 (they count from the span's start), so rounding moves r
    by a few parts per million, far inside the reductions' aim below the threshold.
    """
    decay = np.arange(required_db.shape[0], dtype=np.float32) * np.float32(log_decay)
    log_release = np.full(required_db.shape[0], -np.inf, np.float32)
    over = required_db > 0
    log_release[over] = np.log(required_db[over]) - decay[over]
    np.maximum.accumulate(log_release, out=log_release)
    np.maximum(log_release, np.float32(carried_log), out=log_release)
    log_release += decay
    return log_release


def _attack_db(release_db: np.ndarray, *, lookahead_samples: int) -> np.ndarray:
    """Step 3: forward max then backward mean, both over ``La + 1`` samples; drops the first and
    last ``La`` samples of the span (they only feed the samples in between)."""
    window = lookahead_samples + 1
    ahead = _forward_max(release_db, window)
    smoothed = _backward_mean(ahead[:-lookahead_samples], window)
    return smoothed[lookahead_samples:]


def _forward_max(x: np.ndarray, window: int) -> np.ndarray:
    """``max(x[i : i + window])`` for each ``i``, zeros past the end (``x >= 0``): van Herk and
    Gil-Werman's running max, from running maxima within blocks of ``window`` forwards and
    backwards (three passes, whatever the window)."""
    n = x.shape[0]
    blocks = np.zeros(-(-(n + window - 1) // window) * window, x.dtype).reshape(-1, window)
    blocks.reshape(-1)[:n] = x
    from_start = np.maximum.accumulate(blocks, axis=1).reshape(-1)
    to_end = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    return np.maximum(to_end[:n], from_start[window - 1 : window - 1 + n])


def _backward_mean(x: np.ndarray, window: int) -> np.ndarray:
    """The mean of ``x[i - window + 1 : i + 1]`` for each ``i``, zeros before the start; from
    running sums in float64 (a span's sum of dB values loses nothing there)."""
    sums = np.cumsum(x, dtype=np.float64)
    sums[window:] -= sums[:-window].copy()
    return (sums / window).astype(x.dtype)


def _check(
    sample_rate_hz: int,
    ceiling_dbtp: float,
    lookahead_ms: float,
    release_ms: float,
    oversample: int,
) -> None:
    checked_sample_rate_hz(sample_rate_hz)
    if not math.isfinite(ceiling_dbtp):
        raise InvalidParamsError(f"ceiling_dbtp must be finite, got {ceiling_dbtp!r}")
    if not 0.1 <= lookahead_ms <= 20.0:
        raise InvalidParamsError(f"lookahead_ms must be in [0.1, 20], got {lookahead_ms!r}")
    if not 1.0 <= release_ms <= 2000.0:
        raise InvalidParamsError(f"release_ms must be in [1, 2000], got {release_ms!r}")
    if (
        isinstance(oversample, bool)
        or not isinstance(oversample, int | np.integer)
        or not 4 <= oversample <= 32
    ):
        raise InvalidParamsError(f"oversample must be an integer in [4, 32], got {oversample!r}")
