"""Mastering: the stitched vocal in, the samples of the delivered 16-bit dual-mono file out.

band-limit (remove DC, and content above 20 kHz) → measure → gain → true-peak limit → TPDF dither
to 16 bit → measure what will be delivered → correct the gain, until the delivered file reads the
target loudness. Loudness is always measured as the delivered stereo L = R file measures
(BS.1770-4: channel powers summed, so 3.01 LU above the mono signal). See docs/mastering.md for
the reasoning behind the numbers.
"""

import math

import attrs
import numpy as np

from voxregen_core import iir, spec
from voxregen_core.errors import EmptyInputError, InvalidParamsError, NonFiniteSamplesError
from voxregen_core.export import dither_to_pcm16
from voxregen_core.limiter import limit_in_place
from voxregen_core.loudness import integrated_loudness, integrated_loudness_lufs
from voxregen_core.parallelism import map_on_cores
from voxregen_core.true_peak import true_peak_dbtp
from voxregen_core.units import db_to_gain
from voxregen_core.validation import check_overwritable, checked_mono_float

METER_MARGIN_DB = 0.004
"""The limiter aims this far under the ceiling on its 8x grid, which it verifies (the limiter's
last pass finds nothing over). Dither and rounding then move each sample by under 1.5 LSB, so
any interpolated value by under 2.43 x 1.5 LSB (the interpolator's largest per-phase sum of
|h|): 0.0011 dB at -1 dBFS, inside this margin, so the delivered file's 8x grid is under the
ceiling too. Each round still meters its 4x reading (BS.1770-4's, as ffmpeg reads it) and goes
lower if that reads over ``ceiling - METER_MARGIN_DB / 2``."""

TOLERANCE_LU = 0.02
"""Iterations stop once the delivered file reads within this of the target."""

MAX_ITERATIONS = 8

ROBUST_READING_LU = 0.05
"""A round whose reading moves more than this when the gates move by
:data:`~voxregen_core.loudness.GATE_JITTER_LU` has a block on a gate: when no round reads the
target, such a round is delivered only if no other is left (another meter may read it LUs away)."""

_HIGH_PASS_HZ = 5.0
_LOW_PASS_SOS = np.array(
    [
        [0.3733536889323194, 0.3733536889323194, 0.0, 1.0, 0.43749253856396, 0.0],
        [1.0, 1.96809226537208, 1.0, 1.0, 1.1661387895573567, 0.4445550922612024],
        [1.0, 1.9103357780907615, 1.0, 1.0, 1.52266671384242, 0.7576314578427301],
        [1.0, 1.8747327364077946, 1.0000000000000002, 1.0, 1.7127316783124555, 0.9340783072913843],
    ]
)
"""7th-order elliptic low-pass, 0.01 dB ripple, 60 dB stopband, edge 20 kHz at 48 kHz:
``scipy.signal.ellip(7, 0.01, 60.0, 20_000.0, fs=48_000, output="sos")`` (the delivery rate,
:data:`~voxregen_core.spec.SAMPLE_RATE_HZ`, the only one mastered), tabulated (a test
checks it against SciPy) so that a render never imports ``scipy.signal`` (0.3-0.6 s)."""
_SETTLE_S = 0.1
"""Each filter pass starts in the steady state of its first 100 ms's mean: no start transient."""

_CHUNK_SAMPLES = 1 << 18
_WARM_UP_S = 1.0
"""Lead-in of each band-limit segment after the first (see ``_filter_pass``)."""
_SEGMENT_S = 30.0
"""Band-limit segment length: 16 for 8 minutes, each 3% lead-in."""
_MAX_STEP_DB = 12.0
_SLOPE_RANGE = (0.05, 1.0)
"""Delivered LU per dB of gain: 1 without limiting, less the harder the limiter works."""


@attrs.frozen(eq=False)
class MasterResult:
    """What :func:`master` delivers and what it measured on it.

    pcm16 : np.ndarray [shape=(n_samples,)], int16; one channel of the delivered dual-mono file
        (quantized, dithered; a view of the first half of the float32 buffer it was made in)
    gain_db : loudness gain applied before limiting
    limiter_gain_reduction_db : deepest reduction the limiter applied (>= 0)
    loudness_lufs : the delivered file's integrated loudness (dual mono) on our meter; None when
        gated out (silence, or shorter than one 400 ms block)
    true_peak_dbtp : the delivered file's true peak on our meter (4x); None for digital silence
    iterations : gain → limit → measure rounds run
    loudness_gate_sensitivity_lu : how far ``loudness_lufs`` moves if the gates move a little
        (:class:`~voxregen_core.loudness.LoudnessReading`); over ``ROBUST_READING_LU``, other
        meters may read the file otherwise
    """

    pcm16: np.ndarray
    gain_db: float
    limiter_gain_reduction_db: float
    loudness_lufs: float | None
    true_peak_dbtp: float | None
    iterations: int
    loudness_gate_sensitivity_lu: float = 0.0


def master(
    x: np.ndarray,
    *,
    sample_rate_hz: int,
    target_lufs: float,
    ceiling_dbtp: float,
    seed: int,
    overwrite_x: bool = False,
) -> MasterResult:
    """Loudness-normalize, true-peak limit and quantize the stitched vocal for delivery.

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples,)], float32, mono
    sample_rate_hz : rate of ``x`` and of the delivered file: 48000, the only rate the band
        limit is designed for
    target_lufs : integrated loudness of the delivered stereo dual-mono file (-60 to -5)
    ceiling_dbtp : no true peak of the delivered file above this (-20 to 0)
    seed : seeds the dither; the same input and seed give the same samples
    overwrite_x : band-limit in ``x``'s own memory (``x`` contiguous, writeable float32, and the
        band-limited signal after): no full-length copy of the input is made (92 MB for
        8 minutes). ``x`` is left as it is otherwise.

    The band-limited signal is kept for the rounds: each gain → limit → measure round scales,
    limits and quantizes a copy of it, so gains never compound, and a later round (the limiter
    moved the loudness) costs no second band limit.

    Input whose loudness is gated out (digital silence, level below -70 LUFS, or shorter than
    400 ms) gets 0 dB of gain, is still limited and dithered, and reports ``loudness_lufs=None``;
    digital silence comes out as digital silence (no dither), with ``true_peak_dbtp=None``.
    """
    x = checked_mono_float(x)
    if overwrite_x:
        check_overwritable(x)
    if x.shape[0] == 0:
        raise EmptyInputError("x holds no samples")
    if not -60.0 <= target_lufs <= -5.0:
        raise InvalidParamsError(f"target_lufs must be in [-60, -5], got {target_lufs!r}")
    if not -20.0 <= ceiling_dbtp <= 0.0:
        raise InvalidParamsError(f"ceiling_dbtp must be in [-20, 0], got {ceiling_dbtp!r}")
    if sample_rate_hz != spec.SAMPLE_RATE_HZ:  # the band limit's filters are designed for it
        raise InvalidParamsError(
            f"sample_rate_hz must be {spec.SAMPLE_RATE_HZ} (the delivery rate), "
            f"got {sample_rate_hz!r}"
        )

    band_limited = _band_limit(x if overwrite_x else np.array(x, np.float32))
    if not band_limited.any():
        silence = np.zeros(band_limited.shape[0], np.int16)
        return MasterResult(silence, 0.0, 0.0, None, None, iterations=1)
    measured_lufs = integrated_loudness_lufs(
        band_limited, sample_rate_hz=sample_rate_hz, dual_mono=True
    )
    limit_dbtp = ceiling_dbtp - METER_MARGIN_DB
    # gated out: the defined output is the 0 dB render (its delivered reading is gated out too)
    gain_db = target_lufs - measured_lufs if math.isfinite(measured_lufs) else 0.0
    tried: list[tuple[float, float]] = []  # (gain_db, delivered_lufs)
    best: MasterResult | None = None  # the round that read closest to the target
    iterations = 0
    while iterations < MAX_ITERATIONS:
        iterations += 1
        result = _render(
            band_limited.copy(),
            gain_db=gain_db,
            limit_dbtp=limit_dbtp,
            seed=seed,
            rate_hz=sample_rate_hz,
        )
        peak_dbtp = result.true_peak_dbtp
        if peak_dbtp is not None and peak_dbtp > ceiling_dbtp - METER_MARGIN_DB / 2:
            # Dither can move a peak by a few thousandths of a dB: redo, aiming that much lower.
            limit_dbtp -= peak_dbtp - limit_dbtp + 0.002
            continue
        if result.loudness_lufs is None or abs(result.loudness_lufs - target_lufs) <= TOLERANCE_LU:
            best = result
            break
        if best is None or _rank(result, target_lufs) < _rank(best, target_lufs):
            best = result
        tried.append((gain_db, result.loudness_lufs))
        gain_db = _next_gain_db(tried, target_lufs=target_lufs)
    return attrs.evolve(best or result, iterations=iterations)


def _rank(result: MasterResult, target_lufs: float) -> tuple[bool, float]:
    """Which round to deliver when none reads the target: a reading other meters agree with
    first, then the closest (its loudness is not None here)."""
    fragile = result.loudness_gate_sensitivity_lu > ROBUST_READING_LU
    return fragile, abs(result.loudness_lufs - target_lufs)


def _render(
    audio: np.ndarray, *, gain_db: float, limit_dbtp: float, seed: int, rate_hz: int
) -> MasterResult:
    """One gain → limit → dither → measure round. Scales, limits and quantizes ``audio`` (a
    copy of the band-limited signal) in place: ``pcm16`` is a view of its memory, and no second
    array holds the PCM (46 MB for 8 minutes)."""
    audio *= np.float32(db_to_gain(gain_db))
    reduction_db = limit_in_place(
        audio, sample_rate_hz=rate_hz, ceiling_dbtp=limit_dbtp, ceiling_on_grid=True
    )
    pcm16 = dither_to_pcm16(audio, seed=seed, overwrite_x=True)
    loudness = integrated_loudness(pcm16, sample_rate_hz=rate_hz, dual_mono=True)
    loudness_lufs = loudness.lufs
    peak_dbtp = true_peak_dbtp(pcm16, sample_rate_hz=rate_hz, oversample=4)
    return MasterResult(
        pcm16=pcm16,
        gain_db=gain_db,
        limiter_gain_reduction_db=reduction_db,
        loudness_lufs=loudness_lufs if math.isfinite(loudness_lufs) else None,
        true_peak_dbtp=peak_dbtp if math.isfinite(peak_dbtp) else None,
        iterations=1,
        loudness_gate_sensitivity_lu=loudness.gate_sensitivity_lu,
    )


def _next_gain_db(tried: list[tuple[float, float]], *, target_lufs: float) -> float:
    """Secant step towards the target on (gain, delivered loudness); slope 1 from one point.

    Once one gain has read under the target and a higher one over it, the next gain stays
    between the closest such pair: the secant through them if it falls strictly inside, else
    their midpoint. The delivered loudness need not be continuous in the gain: as the limiter
    reshapes the loud part, a block can cross BS.1770's relative gate, and the reading jumps by
    LUs (a 22 ms full-scale burst and two clicks in 4 s of silence read about -20.5 LUFS on
    one side of a 0.04 dB step of gain and -15.8 on the other); a plain secant then swings across the jump for good, and the bracket
    closes in on it instead.
    """
    under = [point for point in tried if point[1] < target_lufs]
    over = [point for point in tried if point[1] > target_lufs]
    if under and over:
        (low_db, low_lufs), (high_db, high_lufs) = max(under), min(over)
        if low_db < high_db:
            secant_db = low_db + (target_lufs - low_lufs) * (high_db - low_db) / (
                high_lufs - low_lufs
            )
            return secant_db if low_db < secant_db < high_db else (low_db + high_db) / 2.0
    gain_db, delivered_lufs = tried[-1]
    slope = 1.0
    if len(tried) >= 2:
        previous_gain_db, previous_lufs = tried[-2]
        if gain_db != previous_gain_db:
            slope = (delivered_lufs - previous_lufs) / (gain_db - previous_gain_db)
    slope = min(max(slope, _SLOPE_RANGE[0]), _SLOPE_RANGE[1])
    step_db = (target_lufs - delivered_lufs) / slope
    return gain_db + min(max(step_db, -_MAX_STEP_DB), _MAX_STEP_DB)


def _band_limit(audio: np.ndarray) -> np.ndarray:
    """High-pass at 5 Hz (2nd-order Butterworth) and low-pass at 20 kHz (7th-order elliptic,
    0.01 dB ripple), run forward and then backward over the whole stem: zero phase, so the
    delivered file stays sample-aligned and phase-coherent with the input (a producer nulls it
    against the input and lays it against the song's other stems). The two passes square the
    magnitude response: -6 dB at 5 Hz, within 0.02 dB from 40 Hz to 20 kHz, -71 dB at 21 kHz,
    -120 dB from 21.5 kHz (docs/mastering.md). In place in ``audio`` (float32, contiguous),
    which it returns, the filter state carried across chunks in both directions.

    DC adds to the true peak without adding loudness (K-weighting removes it), so it would cost
    headroom for nothing. Content in the last few kHz below Nyquist is inaudible, and it is where
    true-peak meters disagree: each interpolation filter rolls off differently there, and no
    finite one bounds the ideal reconstruction of full-band noise. Without it the limiter's
    ceiling holds on every meter, ideal band-limited interpolation included.
    """
    filters = iir.cascade(np.vstack([_high_pass_sos(), _LOW_PASS_SOS]))
    samples = {
        "settle_samples": max(1, round(_SETTLE_S * spec.SAMPLE_RATE_HZ)),
        "warm_up_samples": round(_WARM_UP_S * spec.SAMPLE_RATE_HZ),
        "segment_samples": round(_SEGMENT_S * spec.SAMPLE_RATE_HZ),
    }
    _filter_pass(filters, audio, out=audio, **samples)
    _filter_pass(filters, audio[::-1], out=audio[::-1], **samples)
    return audio


def _high_pass_sos() -> np.ndarray:
    """2nd-order Butterworth high-pass at :data:`_HIGH_PASS_HZ` (bilinear transform, prewarped:
    ``scipy.signal.butter``'s design), one row ``[b0, b1, b2, 1, a1, a2]``."""
    k = math.tan(math.pi * _HIGH_PASS_HZ / spec.SAMPLE_RATE_HZ)
    a0 = 1.0 + math.sqrt(2.0) * k + k * k
    return np.array(
        [
            [
                1 / a0,
                -2 / a0,
                1 / a0,
                1.0,
                2 * (k * k - 1) / a0,
                (1 - math.sqrt(2.0) * k + k * k) / a0,
            ]
        ]
    )


def _filter_pass(
    filters: iir.Cascade,
    x: np.ndarray,
    *,
    out: np.ndarray,
    settle_samples: int,
    warm_up_samples: int,
    segment_samples: int,
) -> None:
    """``filters`` over ``x`` into ``out`` (which may be ``x``) in segments of
    ``segment_samples``, as many at once as there are cores.

    The first segment starts in the steady state of the mean of its first ``settle_samples``
    (a stem that starts at a level, DC, has no start transient); every later one starts the
    same way ``warm_up_samples`` earlier and drops that lead-in, by the end of which the state it
    started from has decayed below float32's resolution (the slowest pole, the 5 Hz high-pass's,
    takes it to 1e-9 in a second): the output is the one-pass output to within rounding. The
    segments depend on the length alone, so the output does not depend on the core count.
    Raises NonFiniteSamplesError if ``x`` holds NaN or Inf (the state would not be finite).
    """
    n, warm_up = x.shape[0], warm_up_samples
    bounds = [*range(0, n, segment_samples), n]
    # Copied before any segment writes: in place, a segment's lead-in is its neighbour's output.
    lead_ins = [x[max(0, start - warm_up) : start].copy() for start in bounds[:-1]]
    finals = map_on_cores(
        lambda k: _filter_segment(
            filters, x, out, bounds[k], bounds[k + 1], lead_ins[k], settle_samples
        ),
        range(len(bounds) - 1),
    )
    if not all(np.isfinite(state).all() for state in finals):
        raise NonFiniteSamplesError("x holds NaN or infinite samples")


def _filter_segment(
    filters: iir.Cascade,
    x: np.ndarray,
    out: np.ndarray,
    start: int,
    stop: int,
    lead_in: np.ndarray,
    settle_samples: int,
) -> np.ndarray:
    """``filters`` over ``lead_in`` (output dropped), then ``x[start:stop]`` into
    ``out[start:stop]``; returns the final state."""
    first = lead_in if lead_in.shape[0] else x[start:stop]
    state = filters.steady_state(first[:settle_samples].mean(dtype=np.float64))
    _, state = filters.filter(lead_in, state)
    for chunk_start in range(start, stop, _CHUNK_SAMPLES):
        chunk = x[chunk_start : min(chunk_start + _CHUNK_SAMPLES, stop)]
        out[chunk_start : chunk_start + chunk.shape[0]], state = filters.filter(chunk, state)
    return state
