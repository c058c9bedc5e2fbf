"""Fundamental frequency (f0) and voicing of a vocal stem with YIN.

A. de Cheveigné and H. Kawahara, "YIN, a fundamental frequency estimator for speech and
music", J. Acoust. Soc. Am. 111(4), 2002. Steps 1–5 of the paper, vectorized over frames:
every frame's difference function comes from one batched FFT cross-correlation and
cumulative sums of energy, and the dip search is array arithmetic, not a loop over frames.
Step 6 (best local estimate) is left out.

Frame ``i`` is centred at ``t = i * hop_s``; a signal of ``n`` samples has
``n // hop_samples + 1`` frames, as in :mod:`voxregen_core.features`.

SciPy's FFT is imported when an estimate starts (the first one loads it; later ones find it
loaded), on another thread while the signal resamples: a render whose features are cached
never loads it (0.2-0.25 s of its start).
"""

from types import ModuleType

import attrs
import numpy as np
import soxr

from voxregen_core import units
from voxregen_core.errors import InvalidParamsError
from voxregen_core.parallelism import map_on_cores, started
from voxregen_core.validation import checked_mono_float, checked_sample_rate_hz

YIN_RATE_HZ = 16_000
"""Analysis rate: ample for f0 up to a few kHz and a ninth of the 48 kHz cost."""

WINDOW_SAMPLES = 512
"""Integration window W (32 ms at 16 kHz): at least one period at 31.25 Hz."""

THRESHOLD = 0.15
"""YIN step 4's absolute threshold on the normalized difference (the paper uses 0.1)."""

RELATIVE_FLOOR_DB = 45.0
"""Frames quieter than the stem's loudest frames (99th percentile) by more are unvoiced."""

ABSOLUTE_FLOOR_DB = -70.0
"""Frames quieter than this (dBFS mean square) are unvoiced whatever the stem's level."""

_BATCH_FRAMES = 256
"""Frames per batched FFT: about 5 MB of working memory, which the heap keeps between batches
(under the 8 MiB trim threshold the CLI sets, voxregen_adapters.malloc_tuning), so no batch
faults its temporaries in again. At 1024 (20 MB) they went back to the OS after every batch:
206k minor page faults for an 8-minute stem against 11k, YIN's CPU time 1.17 s against 0.64 s.
At 512 (10 MB) a pool thread's heap still kept them, but on one core the batches run on the
main thread, whose heap was trimmed after each: 219k faults, 0.71-0.80 s against 0.35-0.38 s
at 256 (`taskset -c 0`); on two cores 256 and 512 take the same time (0.30-0.34 s)."""

_ENERGY_SEGMENT = 1 << 18
"""Starts per running sum of the stretch energies (2 MB of float64 at a time)."""


@attrs.frozen(eq=False)
class PitchTrack:
    """YIN's per-frame estimates.

    f0_hz : np.ndarray [shape=(n_frames,)], float32, Hz; 0.0 where unvoiced
    voiced : np.ndarray [shape=(n_frames,)], bool
    aperiodicity : np.ndarray [shape=(n_frames,)], float32; the normalized difference at the
        chosen lag (0 for a perfectly periodic frame, about 1 for noise)
    """

    f0_hz: np.ndarray
    voiced: np.ndarray
    aperiodicity: np.ndarray


def estimate_f0(
    x: np.ndarray,
    *,
    sample_rate_hz: int,
    hop_s: float = 0.01,
    fmin_hz: float = 60.0,
    fmax_hz: float = 1100.0,
) -> PitchTrack:
    """f0 and voicing of a mono signal, one frame every ``hop_s`` seconds.

    x : np.ndarray [shape=(n_samples,)], float, at ``sample_rate_hz``

    Frame ``i`` is centred at ``i * hop_s``; there are ``n_samples // hop_samples + 1``.
    A frame is voiced when its normalized difference dips under :data:`THRESHOLD` and its
    power is above both floors. Raises :class:`~voxregen_core.errors.InvalidParamsError`
    for a signal that is not 1-D float, a hop under one sample or a bad f0 range.
    """
    x = checked_mono_float(x)
    checked_sample_rate_hz(sample_rate_hz)
    if hop_s * sample_rate_hz < 1:
        raise InvalidParamsError(f"hop_s must be at least one sample, got {hop_s}")
    if not YIN_RATE_HZ / WINDOW_SAMPLES <= fmin_hz < fmax_hz <= YIN_RATE_HZ / 4:
        raise InvalidParamsError(
            f"need {YIN_RATE_HZ / WINDOW_SAMPLES} <= fmin_hz < fmax_hz <= {YIN_RATE_HZ / 4}, "
            f"got fmin_hz={fmin_hz}, fmax_hz={fmax_hz}"
        )
    n_frames = x.shape[0] // units.seconds_to_samples(hop_s, sample_rate_hz=sample_rate_hz) + 1
    loaded_fft = started(_scipy_fft)  # imported while the signal resamples
    y = np.asarray(x, dtype=np.float32)
    if sample_rate_hz != YIN_RATE_HZ:
        y = soxr.resample(y, sample_rate_hz, YIN_RATE_HZ, quality="HQ")

    tau_min = int(YIN_RATE_HZ // fmax_hz)
    tau_max = int(np.ceil(YIN_RATE_HZ / fmin_hz))
    span = WINDOW_SAMPLES + tau_max + 2  # lags 0 … tau_max + 1 (a neighbour for step 5)
    # The compared stretches x[s, s+W) and x[s+τ, s+τ+W) centre on s + (W + τ)/2: centre them
    # on the frame time for the lag in the log-middle of the range.
    lead = (WINDOW_SAMPLES + round(np.sqrt(tau_min * tau_max))) // 2
    padded = np.zeros(lead + y.shape[0] + span, dtype=np.float32)
    padded[lead : lead + y.shape[0]] = y
    del y  # 31 MB for 8 minutes: only the padded copy is read from here on
    windows = np.lib.stride_tricks.sliding_window_view(padded, span)
    starts = np.round(np.arange(n_frames) * hop_s * YIN_RATE_HZ).astype(np.int64)
    stretch_energy = np.lib.stride_tricks.sliding_window_view(
        _stretch_energies(padded, WINDOW_SAMPLES), tau_max + 2
    )

    lag_s, aperiodicity, power = (np.empty(n_frames, np.float32) for _ in range(3))
    fft = loaded_fft()

    def yin_batch(first: int) -> None:
        batch = slice(first, first + _BATCH_FRAMES)
        lag_s[batch], aperiodicity[batch], power[batch] = _yin(
            windows[starts[batch]], stretch_energy[starts[batch]], tau_min=tau_min, fft=fft
        )

    # Batches are independent, and NumPy's and pocketfft's loops release the GIL.
    map_on_cores(yin_batch, range(0, n_frames, _BATCH_FRAMES))

    floor_power = max(
        np.percentile(power, 99) * units.db_to_gain(-RELATIVE_FLOOR_DB) ** 2,
        units.db_to_gain(ABSOLUTE_FLOOR_DB) ** 2,
    )
    voiced = (aperiodicity < THRESHOLD) & (power > floor_power)
    f0_hz = np.where(voiced, 1.0 / np.where(voiced, lag_s, 1.0), 0.0).astype(np.float32)
    return PitchTrack(f0_hz=f0_hz, voiced=voiced, aperiodicity=aperiodicity)


def _stretch_energies(x: np.ndarray, width: int) -> np.ndarray:
    """``Σ x[s : s + width]²`` for every start ``s`` (float32), from running sums in float64
    restarted every :data:`_ENERGY_SEGMENT` starts: digital silence sums to exactly 0, and a
    quiet stretch after loud ones keeps its few significant digits. The segments run on all
    cores."""
    n = x.shape[0] - width + 1
    energies = np.empty(n, np.float32)

    def segment(start: int) -> None:
        stop = min(start + _ENERGY_SEGMENT, n)
        running = np.zeros(stop - start + width, np.float64)
        np.cumsum(np.square(x[start : stop + width - 1], dtype=np.float64), out=running[1:])
        energies[start:stop] = running[width:] - running[:-width]

    map_on_cores(segment, range(0, n, _ENERGY_SEGMENT))
    return energies


def _scipy_fft() -> ModuleType:
    """The ``scipy.fft`` module, imported here rather than at the top (the module docstring)."""
    import scipy.fft

    return scipy.fft


def _yin(
    frames: np.ndarray, window_energy: np.ndarray, *, tau_min: int, fft: ModuleType
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Period (s), aperiodicity and mean-square power of each frame.

    frames : np.ndarray [shape=(n_frames, W + tau_max + 2)], float32, 16 kHz
    window_energy : np.ndarray [shape=(n_frames, tau_max + 2)], float32; E(τ), the energy of
        each frame's stretch [τ, τ + W)
    fft : the ``scipy.fft`` module (:func:`_scipy_fft`)
    """
    n_lags = window_energy.shape[1]
    tau_max = n_lags - 2
    n_fft = fft.next_fast_len(frames.shape[1], real=True)

    # Step 1–2 (eq. 6–7): d(τ) = Σ_{j<W} (x_j − x_{j+τ})² = E(0) + E(τ) − 2 r(τ), with the
    # cross-correlation r(τ) = Σ_{j<W} x_j x_{j+τ} from one FFT product (no wrap: n_fft ≥ span).
    head = fft.rfft(frames[:, :WINDOW_SAMPLES], n=n_fft, axis=1)
    whole = fft.rfft(frames, n=n_fft, axis=1)
    r = fft.irfft(np.conj(head) * whole, n=n_fft, axis=1)[:, :n_lags]
    d = np.maximum(window_energy[:, :1] + window_energy - 2.0 * r, 0.0)

    # Step 3 (eq. 8): cumulative-mean-normalized difference d'(τ) = d(τ) / ((1/τ) Σ_{k≤τ} d(k)),
    # d'(0) = 1; a silent frame (all d = 0) reads 1, fully aperiodic.
    lags = np.arange(n_lags, dtype=np.float32)
    running = np.cumsum(d, axis=1)
    cmndf = np.ones_like(d)
    np.divide(d * lags, running, out=cmndf, where=running > 0)
    cmndf[:, 0] = 1.0

    # Step 4: the first lag whose d' dips under the absolute threshold, then on to the
    # bottom of that dip; with no such dip, the global minimum (an unvoiced frame).
    search = cmndf[:, tau_min : tau_max + 1]
    under = search < THRESHOLD
    has_dip = under.any(axis=1)
    first = np.argmax(under, axis=1)
    rising = cmndf[:, tau_min + 1 : tau_max + 2] >= search
    rising[:, -1] = True  # a dip still falling at tau_max ends there
    bottom = np.argmax(rising & (np.arange(search.shape[1]) >= first[:, None]), axis=1)
    tau = tau_min + np.where(has_dip, bottom, np.argmin(search, axis=1))

    # Step 5: parabolic interpolation of d around the chosen lag refines it below a sample.
    rows = np.arange(frames.shape[0])
    before, at, after = (d[rows, tau + k] for k in (-1, 0, 1))
    curvature = before - 2.0 * at + after
    shift = np.divide(0.5 * (before - after), curvature, out=np.zeros_like(at), where=curvature > 0)
    lag_s = (tau + np.clip(shift, -0.5, 0.5)) / YIN_RATE_HZ
    power = np.einsum("ij,ij->i", frames, frames) / frames.shape[1]
    return lag_s, cmndf[rows, tau], power
