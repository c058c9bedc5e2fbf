"""The v1 placeholder generator: a mild, deterministic EQ and compressor, no model.

:class:`StubGenerator` is THE placeholder for the machine-learning singer model. It satisfies
:class:`voxregen_core.ports.Generator` structurally; a model replaces it by implementing
that port, and nothing else in the pipeline changes.

What it does to a chunk, with every amount scaled by ``params.intensity`` (0 leaves the audio
unchanged up to float32 rounding, 1 is the full amount below):

1. EQ by ``params.style``, RBJ biquads (R. Bristow-Johnson, "Cookbook formulae for audio EQ
   biquad filter coefficients"):

   - ``natural``: presence peak, +2.5 dB at 3 kHz (Q 0.9)
   - ``warm``: low shelf +3 dB at 250 Hz and high shelf -3 dB at 6 kHz
   - ``bright``: high shelf +4 dB at 4 kHz
   - ``airy``: peak +4 dB at 10 kHz (Q 0.8)

2. Compression: level from a centered 52.5 ms RMS window, soft-knee gain computer (threshold
   -28 dBFS, knee 10 dB, ratio ``1 + 1.5 * intensity``, so up to 2.5:1), with a fixed make-up
   gain that leaves a signal at -18 dBFS RMS at its level. Loudness is normalized after
   stitching anyway; the make-up only keeps the chunk near its input level.

It is a pure function of the chunk's audio and the params: identical input gives identical
output on every machine, so the output is deterministic per (job_id, chunk_index, params)
without drawing on ``chunk.seed``. It ignores ``params.quality``, the chunk's features and the
singer profile. It never changes the length and returns float32.

Continuity across chunks (chunks overlap by 2 s and are crossfaded): the EQ starts from the
steady state of the chunk's first sample (:meth:`~voxregen_core.iir.Cascade.steady_state`),
and the compressor's level window is centered and mirrored at the chunk edges, so there is no
start transient, and away from the edges both renders of an overlap compute the same gain. The gain is computed every
2.5 ms (a hop that divides the 16 s stride, so overlapping chunks share the grid) and
interpolated linearly between.
"""

import enum
import math

import attrs
import numpy as np

from voxregen_core import iir, spec, units
from voxregen_core.errors import InvalidParamsError
from voxregen_core.generator import ChunkFeatures, Device
from voxregen_core.params import RenderParams, Style
from voxregen_core.profiles import SingerProfile


class BandShape(enum.Enum):
    PEAK = "peak"
    LOW_SHELF = "low_shelf"
    HIGH_SHELF = "high_shelf"


@attrs.frozen
class EqBand:
    """One EQ band at full intensity; shelves use Q = 1/sqrt(2) (the cookbook's slope S = 1)."""

    shape: BandShape
    freq_hz: float
    gain_db: float
    q: float = 1 / np.sqrt(2)


EQ_BANDS: dict[Style, tuple[EqBand, ...]] = {
    Style.NATURAL: (EqBand(BandShape.PEAK, 3000.0, 2.5, q=0.9),),
    Style.WARM: (
        EqBand(BandShape.LOW_SHELF, 250.0, 3.0),
        EqBand(BandShape.HIGH_SHELF, 6000.0, -3.0),
    ),
    Style.BRIGHT: (EqBand(BandShape.HIGH_SHELF, 4000.0, 4.0),),
    Style.AIRY: (EqBand(BandShape.PEAK, 10_000.0, 4.0, q=0.8),),
}
"""The EQ of each style at intensity 1; gains scale linearly with intensity (in dB)."""

THRESHOLD_DBFS = -28.0
KNEE_DB = 10.0
MAX_RATIO = 2.5
NOMINAL_RMS_DBFS = -18.0
"""RMS level the compressor's make-up gain leaves unchanged."""
LEVEL_HOP_SAMPLES = 120
"""2.5 ms at 48 kHz; divides the 16 s stride so overlapping chunks share the gain grid."""
LEVEL_WINDOW_HOPS = 21
"""Centered RMS window of 21 hops = 52.5 ms."""
_LEVEL_FLOOR_DBFS = -120.0


class StubGenerator:
    """The placeholder :class:`~voxregen_core.ports.Generator` (EQ + compression).

    It computes on the CPU with NumPy whatever ``device`` it is built for: the device is kept
    only so that the worker passes its setting through the port as a model will need.
    """

    def __init__(self, device: Device = Device.CPU) -> None:
        self._device = Device(device)

    @property
    def device(self) -> Device:
        return self._device

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        """``features.audio`` EQ'd and compressed as the module describes.

        features.audio : np.ndarray [shape=(n_samples,)], float32, 48 kHz mono, n_samples >= 1

        Returns np.ndarray [shape=(n_samples,)], float32, 48 kHz. Raises
        :class:`InvalidParamsError` for audio that is not one-dimensional or is empty.
        """
        audio = np.asarray(features.audio, dtype=np.float32)
        if audio.ndim != 1 or audio.shape[0] == 0:
            raise InvalidParamsError(f"chunk audio must be (n_samples >= 1,), got {audio.shape}")
        equalized = _equalize(audio, params)
        return (equalized * _compressor_gain(equalized, intensity=params.intensity)).astype(
            np.float32, copy=False
        )


def _equalize(x: np.ndarray, params: RenderParams) -> np.ndarray:
    """The style's EQ at ``params.intensity``, started from the steady state of ``x[0]``."""
    sos = np.stack(
        [_biquad(band, gain_db=params.intensity * band.gain_db) for band in EQ_BANDS[params.style]]
    )
    eq = iir.cascade(sos)
    equalized, _ = eq.filter(x, eq.steady_state(float(x[0])))
    return equalized


def _biquad(band: EqBand, *, gain_db: float) -> np.ndarray:
    """One second-order section ``[b0, b1, b2, 1, a1, a2]`` (RBJ cookbook, float64).

    A gain of 0 dB gives b == a, the identity filter.
    """
    amplitude = 10.0 ** (gain_db / 40.0)  # cookbook: A = 10^(dBgain/40)
    w0 = 2.0 * np.pi * band.freq_hz / spec.SAMPLE_RATE_HZ
    cos_w0 = np.cos(w0)
    alpha = np.sin(w0) / (2.0 * band.q)
    if band.shape is BandShape.PEAK:
        b = [1.0 + alpha * amplitude, -2.0 * cos_w0, 1.0 - alpha * amplitude]
        a = [1.0 + alpha / amplitude, -2.0 * cos_w0, 1.0 - alpha / amplitude]
    else:
        # Shelves: the high shelf is the low shelf with the sign of the ·cos terms flipped.
        sign = 1.0 if band.shape is BandShape.LOW_SHELF else -1.0
        ap, am = amplitude + 1.0, amplitude - 1.0
        root = 2.0 * np.sqrt(amplitude) * alpha
        b = [
            amplitude * (ap - sign * am * cos_w0 + root),
            2.0 * sign * amplitude * (am - sign * ap * cos_w0),
            amplitude * (ap - sign * am * cos_w0 - root),
        ]
        a = [
            ap + sign * am * cos_w0 + root,
            -2.0 * sign * (am + sign * ap * cos_w0),
            ap + sign * am * cos_w0 - root,
        ]
    return np.concatenate([b, a]) / a[0]


def _compressor_gain(x: np.ndarray, *, intensity: float) -> np.ndarray:
    """Per-sample linear gain of the soft-knee compressor, float32 [shape=(n_samples,)]."""
    n_samples = x.shape[0]
    starts = np.arange(0, n_samples, LEVEL_HOP_SAMPLES)
    counts = np.diff(np.append(starts, n_samples))
    hop_power = np.add.reduceat(np.square(x, dtype=np.float64), starts) / counts
    level_power = _centered_mean(hop_power, LEVEL_WINDOW_HOPS)
    level_db = np.maximum(units.power_to_db(level_power), _LEVEL_FLOOR_DBFS)
    ratio = 1.0 + intensity * (MAX_RATIO - 1.0)
    gain_db = _gain_computer_db(level_db, ratio=ratio) - _gain_computer_db(
        NOMINAL_RMS_DBFS, ratio=ratio
    )
    centers = starts + (counts - 1) / 2.0
    return _interpolated(units.db_to_gain(gain_db), centers, n_samples)


def _interpolated(hop_gain: np.ndarray, centers: np.ndarray, n_samples: int) -> np.ndarray:
    """The hops' gains, each at its hop's centre, linearly interpolated to every sample and held
    before the first centre and after the last (``np.interp``), float32.

    Between the centres of two full hops, one hop apart, sample ``j`` of the hop-long stretch
    gets the same fraction of the step whatever the stretch: those are computed hop by hop as
    one broadcast product. ``np.interp``'s search per sample took 70% of a chunk's time; it
    still does the edges (a head shorter than a hop, a tail under two hops).
    """
    hop = LEVEL_HOP_SAMPLES
    first = math.ceil(centers[0])  # the first sample at or after the first centre
    n_uniform = max(hop_gain.shape[0] - 2, 0)  # stretches whose both ends are full hops' centres
    stop = first + n_uniform * hop
    gain = np.empty(n_samples, np.float32)
    head = np.arange(min(first, n_samples))
    gain[: head.shape[0]] = np.interp(head, centers, hop_gain)
    fractions = ((np.arange(hop) + first - centers[0]) / hop).astype(np.float32)
    steps = np.diff(hop_gain[: n_uniform + 1]).astype(np.float32)
    body = gain[first:stop].reshape(n_uniform, hop)
    np.multiply(steps[:, None], fractions[None, :], out=body)
    body += hop_gain[:n_uniform, None].astype(np.float32)
    gain[stop:] = np.interp(np.arange(stop, n_samples), centers, hop_gain)
    return gain


def _centered_mean(power: np.ndarray, window: int) -> np.ndarray:
    """Mean of each centered ``window`` (odd) of ``power``, mirrored at both ends.

    Summed window by window, never as a running sum: a running sum (``uniform_filter1d``,
    ``cumsum`` differences) subtracts what it added, and after loud audio followed by exact
    digital silence the rounding left it slightly negative, so ``log10`` gave NaN. A sum of
    non-negative terms is non-negative, and exactly 0 over silence.
    """
    half = window // 2
    padded = np.pad(power, half, mode="symmetric")  # d c b a | a b c d | d c b a
    return np.lib.stride_tricks.sliding_window_view(padded, window).mean(axis=-1)


def _gain_computer_db(level_db, *, ratio: float):
    """Gain in dB of a soft-knee compressor for an input level in dB.

    Giannoulis, Massberg & Reiss, "Digital Dynamic Range Compressor Design — A Tutorial and
    Analysis", JAES 60(6), 2012, eq. 4: no gain below T - W/2, slope (1/R - 1) above T + W/2,
    and the quadratic (1/R - 1)·(x - T + W/2)² / (2W) in the knee between.
    """
    over_db = np.asarray(level_db) - THRESHOLD_DBFS
    in_knee_db = np.clip(over_db + KNEE_DB / 2.0, 0.0, KNEE_DB)
    above_knee_db = np.maximum(over_db - KNEE_DB / 2.0, 0.0)
    return (1.0 / ratio - 1.0) * (in_knee_db**2 / (2.0 * KNEE_DB) + above_knee_db)
