"""True peak (ITU-R BS.1770-4 Annex 2): the largest magnitude of a signal between its samples.

The signal is oversampled with a polyphase interpolation FIR (Kaiser-windowed sinc, 32 taps per
phase, flat within 0.01 dB to 20 kHz at 48 kHz) and the absolute maximum is taken. Digital
silence reads ``-inf``. Outside the signal the samples are taken as zero, so the interpolation's
lead-in before the first sample and tail after the last one count too; and the first and last
few samples are also read with the signal mirrored past its ends, as libswresample (ffmpeg's
meter) continues it, the larger reading counting. Meters disagree on what lies outside a file;
a stem that starts or ends on a hard cut reads up to ~0.5 dB apart on the two views, and the
delivered file must be under the ceiling on both.

Two things keep this fast on an 8-minute stem without approximating anything:

- Skipping. An interpolated value is a FIR sum, so ``|y| <= S * max|x|`` over the filter's span,
  where ``S`` is the largest per-phase sum of ``|h|``. A block of :data:`BLOCK_SAMPLES` samples whose
  bound (from its own and its neighbours' sample peaks) cannot beat the answer, or the caller's
  threshold, is never oversampled.
- BLAS. The blocks that are oversampled go through one matrix product per batch, with a banded
  Toeplitz matrix holding every phase: the same sums ``scipy.signal.upfirdn`` computes, several
  times faster.

int16 arrays are read as PCM (value / 32768), the convention of :mod:`voxregen_core.export`.
"""

import functools
from collections.abc import Iterator

import attrs
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from voxregen_core.errors import InvalidParamsError, NonFiniteSamplesError
from voxregen_core.export import float_scale
from voxregen_core.parallelism import map_on_cores
from voxregen_core.units import gain_to_db
from voxregen_core.validation import checked_sample_rate_hz

BLOCK_SAMPLES = 1024
"""Granularity of the skipping: blocks are oversampled whole or not at all."""

_TAPS_PER_PHASE = 32
_KAISER_BETA = 7.0
_ROWS = 32
"""Base samples per row of the Toeplitz product (a divisor of BLOCK_SAMPLES)."""
_BATCH_BLOCKS = 64
"""Blocks oversampled per matrix product (bounds the temporaries to a few MB)."""
_SEARCH_BLOCKS = 2048
"""Blocks :func:`samples_over` searches per task, as many tasks at once as there are cores
(cut by the length alone: the answer does not depend on the core count)."""


@attrs.frozen(eq=False)
class _Interpolator:
    """The interpolation FIR of one oversampling factor, arranged for a matrix product.

    taps : np.ndarray [shape=(2 * half_span + 1, oversample + 1)], float64; ``taps[u, d]`` weighs
        ``x[n + u - half_span]`` in the value at time ``n + (d - oversample // 2) / oversample``
    toeplitz : np.ndarray [shape=(_ROWS + 2 * half_span, (oversample + 1) * _ROWS)], float32; maps
        a stretch of ``_ROWS + 2 * half_span`` samples to the interpolated values within half a
        sample of each of its ``_ROWS`` middle samples, phase-major (so the max over phases is a
        reduction over a middle axis, which numpy does fast)
    """

    oversample: int
    half_span: int
    taps: np.ndarray
    toeplitz: np.ndarray

    @property
    def bound(self) -> float:
        """S: the largest per-phase sum of |h|, so that |y| <= S * max|x| over the span."""
        return float(np.abs(self.taps).sum(axis=0).max())


@functools.cache
def _interpolator(oversample: int) -> _Interpolator:
    phases = oversample
    half_span = _TAPS_PER_PHASE // 2
    # Kaiser-windowed sinc with its cutoff at the base rate's Nyquist frequency; scaled by the
    # oversampling factor so every phase has unit gain, and zero at every other multiple of
    # `phases` so the phase that lands on a sample reproduces it.
    n_taps = phases * _TAPS_PER_PHASE + 1
    cutoff = 1.0 / phases  # of the oversampled rate's Nyquist frequency
    h = (
        phases
        * cutoff
        * np.sinc(cutoff * (np.arange(n_taps) - (n_taps - 1) / 2))
        * np.kaiser(n_taps, _KAISER_BETA)
    )  # scipy.signal.firwin's design (scale=False), to 1e-16, without importing SciPy
    centre = phases * half_span
    offsets = np.arange(-(phases // 2), phases // 2 + 1)
    neighbours = np.arange(-half_span, half_span + 1)
    index = centre + offsets[None, :] - phases * neighbours[:, None]
    inside = (index >= 0) & (index < h.size)
    taps = np.where(inside, h[np.clip(index, 0, h.size - 1)], 0.0)

    row = np.arange(_ROWS)[:, None]
    toeplitz = np.zeros((_ROWS + 2 * half_span, phases + 1, _ROWS))
    toeplitz[row + np.arange(2 * half_span + 1)[None, :], :, row] = taps[None, :, :]
    return _Interpolator(
        oversample=oversample,
        half_span=half_span,
        taps=taps,
        toeplitz=toeplitz.reshape(_ROWS + 2 * half_span, -1).astype(np.float32),
    )


def true_peak_dbtp(x: np.ndarray, *, sample_rate_hz: int, oversample: int = 4) -> float:
    """True-peak level of ``x`` in dBTP (BS.1770-4 Annex 2); ``-inf`` for digital silence.

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples,) or (n_samples, n_channels)], float or int16 PCM
    sample_rate_hz : the rate of ``x``; the interpolation filter scales with it, so the reading
        does not depend on it (checked for sanity only)
    oversample : interpolation factor; BS.1770-4 asks for 4 at 48 kHz

    Blocks are oversampled in descending order of their bound until the next bound falls below
    the largest value found, which gives exactly the answer of oversampling everything.
    """
    checked_sample_rate_hz(sample_rate_hz)
    interp = _interpolator(_checked_oversample(oversample))
    channels = _checked_signal(x, allow_channels=True)
    return gain_to_db(max((_peak(channel, interp) for channel in channels), default=0.0))


def true_peak_envelope(
    x: np.ndarray, *, oversample: int, above: float = 0.0, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Per-sample true-peak envelope: the max |oversampled signal| within half a sample of each.

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples,)], float or int16 PCM
    oversample : interpolation factor
    above : linear threshold; only blocks whose bound exceeds it are oversampled, elsewhere the
        envelope is ``|x|`` (which is then ``<= above`` too, so anything compared against the
        threshold sees the same answer)
    start, stop : the stretch of samples wanted (default: all); ``x`` around it is still read,
        so this is not the envelope of ``x[start:stop]`` in isolation

    Returns
    -------
    envelope : np.ndarray [shape=(stop - start,)], float32, linear. The first sample of ``x`` also
        takes the interpolation's lead-in and the last one its tail, so the envelope covers
        everything a meter sees.
    """
    interp = _interpolator(_checked_oversample(oversample))
    (x,) = _checked_signal(x, allow_channels=False)
    n = x.shape[0]
    stop = n if stop is None else stop
    if not 0 <= start <= stop <= n:
        raise InvalidParamsError(
            f"start, stop must satisfy 0 <= start <= stop <= {n}, got {start}, {stop}"
        )
    if stop == start:
        return np.zeros(0, np.float32)
    first, last = start // BLOCK_SAMPLES, (stop - 1) // BLOCK_SAMPLES + 1
    bounds = _bounds(x, first, last, interp)
    lo, hi = first * BLOCK_SAMPLES, last * BLOCK_SAMPLES
    envelope = np.zeros(hi - lo, np.float32)  # whole blocks; the last one may reach past x
    envelope[: min(hi, n) - lo] = np.abs(x[lo:hi].astype(np.float32)) * np.float32(
        float_scale(x.dtype)
    )
    blocks = envelope.reshape(-1, BLOCK_SAMPLES)
    for batch, values in _oversampled_blocks(x, first + np.flatnonzero(bounds > above), interp):
        blocks[batch - first] = values
    if start == 0 or stop == n:
        lead, tail = _edge_peaks(x, interp)
        mirrored_head, mirrored_tail = _mirrored_edge_peaks(x, interp)
        if start == 0:
            envelope[0] = max(envelope[0], lead)
        if start == 0 and bounds[0] > above:
            k = mirrored_head.shape[0]
            envelope[:k] = np.maximum(envelope[:k], mirrored_head)
        if stop == n:
            envelope[n - 1 - lo] = max(envelope[n - 1 - lo], tail)
        if stop == n and bounds[-1] > above:
            first_tail = max(n - mirrored_tail.shape[0], lo)
            envelope[first_tail - lo : n - lo] = np.maximum(
                envelope[first_tail - lo : n - lo], mirrored_tail[first_tail - n :]
            )
    return envelope[start - lo : stop - lo]


def samples_over(x: np.ndarray, *, oversample: int, above: float) -> tuple[np.ndarray, np.ndarray]:
    """The samples whose true-peak envelope (:func:`true_peak_envelope`) exceeds ``above``, and
    the envelope there, without a full-length envelope: only the blocks whose bound exceeds
    ``above`` are oversampled, and only their samples over it are kept. The same positions and
    values as ``true_peak_envelope(x, ...) > above`` selects, to float32 rounding: BLAS sums a
    block's products in an order that depends on the batch it is in, so a value can differ in
    its last bit (and a sample within a bit of ``above`` be found by one and not the other).

    Parameters
    ----------
    x : np.ndarray [shape=(n_samples,)], float or int16 PCM
    oversample : interpolation factor
    above : linear threshold

    Returns ``(positions, peaks)``: np.ndarray [shape=(k,)], int64, ascending sample indices;
    np.ndarray [shape=(k,)], float32, the envelope there (each over ``above``).
    """
    interp = _interpolator(_checked_oversample(oversample))
    (x,) = _checked_signal(x, allow_channels=False)
    n = x.shape[0]
    n_blocks = -(-n // BLOCK_SAMPLES)
    # The ends are read by true_peak_envelope itself, which adds the lead-in, the tail and the
    # mirrored views: the first block, and the last one with at least _ROWS samples before the
    # end (the mirrored tail's reach, which a short last block does not hold).
    head_stop = min(BLOCK_SAMPLES, n)
    tail_start = max(0, min((n_blocks - 1) * BLOCK_SAMPLES, n - _ROWS))
    ends = [(0, n)] if tail_start <= head_stop else [(0, head_stop), (tail_start, n)]

    def search(first: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The samples over in blocks ``[first, first + _SEARCH_BLOCKS)`` between the ends."""
        stop = min(first + _SEARCH_BLOCKS, n_blocks)
        flagged = first + np.flatnonzero(_bounds(x, first, stop, interp) > above)
        inner = flagged[(flagged > 0) & (flagged < n_blocks - 1)]
        found = []
        for batch, envelope in _oversampled_blocks(x, inner, interp):
            rows, columns = np.nonzero(envelope > above)
            positions = batch[rows] * BLOCK_SAMPLES + columns
            between = (positions >= head_stop) & (positions < tail_start)
            found.append((positions[between], envelope[rows, columns][between]))
        return found

    def end(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        first, last = start // BLOCK_SAMPLES, (stop - 1) // BLOCK_SAMPLES + 1
        if not (_bounds(x, first, last, interp) > above).any():
            return np.zeros(0, np.int64), np.zeros(0, np.float32)  # nothing there can be over
        envelope = true_peak_envelope(x, oversample=oversample, above=above, start=start, stop=stop)
        (columns,) = np.nonzero(envelope > above)
        return start + columns, envelope[columns]

    searches = map_on_cores(search, range(0, n_blocks, _SEARCH_BLOCKS))
    found = [end(*ends[0]), *(part for parts in searches for part in parts)]
    found += [end(*span) for span in ends[1:]]
    positions, peaks = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return positions.astype(np.int64), peaks


def _oversampled_blocks(
    x: np.ndarray, blocks: np.ndarray, interp: _Interpolator
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The block indices ``blocks`` in batches of up to :data:`_BATCH_BLOCKS`, each with its
    blocks' envelopes (np.ndarray [shape=(len(batch), BLOCK_SAMPLES)], float32): one matrix
    product per batch."""
    for first in range(0, blocks.size, _BATCH_BLOCKS):
        batch = blocks[first : first + _BATCH_BLOCKS]
        yield batch, _peaks_around(x, batch * BLOCK_SAMPLES, BLOCK_SAMPLES, interp)


def _peak(x: np.ndarray, interp: _Interpolator) -> float:
    """Largest |interpolated value| of a 1-D signal, oversampling only blocks that could hold it."""
    n = x.shape[0]
    if n == 0:
        return 0.0
    n_blocks = -(-n // BLOCK_SAMPLES)
    bounds = _bounds(x, 0, n_blocks, interp)
    found = max(*_edge_peaks(x, interp), *(edge.max() for edge in _mirrored_edge_peaks(x, interp)))
    order = np.argsort(-bounds, kind="stable")
    for first in range(0, n_blocks, _BATCH_BLOCKS):
        batch = order[first : first + _BATCH_BLOCKS]
        batch = batch[bounds[batch] > found]
        if batch.size == 0:
            break  # descending order: no later block can beat `found` either
        found = max(
            found, float(_peaks_around(x, batch * BLOCK_SAMPLES, BLOCK_SAMPLES, interp).max())
        )
    return found


def _bounds(x: np.ndarray, first: int, stop: int, interp: _Interpolator) -> np.ndarray:
    """Upper bound of the envelope in blocks ``[first, stop)``: S times the largest sample
    magnitude in the block and its two neighbours (the filter reaches half_span < one block)."""
    lo = max(first - 1, 0)
    hi = min(stop + 1, -(-x.shape[0] // BLOCK_SAMPLES))
    maxima = _block_maxima(x[lo * BLOCK_SAMPLES : hi * BLOCK_SAMPLES])
    reach = maxima.copy()
    reach[1:] = np.maximum(reach[1:], maxima[:-1])
    reach[:-1] = np.maximum(reach[:-1], maxima[1:])
    if not np.isfinite(reach).all():
        raise NonFiniteSamplesError("x holds NaN or infinite samples")
    return interp.bound * float_scale(x.dtype) * reach[first - lo : stop - lo]


def _block_maxima(x: np.ndarray) -> np.ndarray:
    """max |x| per block of BLOCK_SAMPLES (the last one may be short), float64, in x's units."""
    full = x.shape[0] // BLOCK_SAMPLES * BLOCK_SAMPLES
    blocks = x[:full].reshape(-1, BLOCK_SAMPLES)
    # max and -min rather than abs: no full-size temporary, and no int16 overflow at -32768
    maxima = np.maximum(
        blocks.max(axis=1).astype(np.float64), -blocks.min(axis=1).astype(np.float64)
    )
    if full < x.shape[0]:
        rest = x[full:]
        maxima = np.append(maxima, max(float(rest.max()), -float(rest.min())))
    return maxima


def _edge_peaks(x: np.ndarray, interp: _Interpolator) -> tuple[float, float]:
    """Largest |interpolated value| before the first sample and after the last one."""
    lead, tail = _peaks_around(x, np.array([-_ROWS, x.shape[0]]), _ROWS, interp).max(axis=1)
    return float(lead), float(tail)


def _mirrored_edge_peaks(x: np.ndarray, interp: _Interpolator) -> tuple[np.ndarray, np.ndarray]:
    """Envelope of the first and of the last ``min(_ROWS, n)`` samples when the signal goes on
    past each end as its mirror image about the end sample (``x[-k] = x[k]``), as
    libswresample continues it: ffmpeg's ebur128 meter reads a stem that starts or ends on a
    hard cut this way.

    Returns two np.ndarray [shape=(min(_ROWS, n_samples),)], float32, linear.
    """
    span, n = interp.half_span, x.shape[0]
    k = min(_ROWS, n)

    def head(signal: np.ndarray) -> np.ndarray:
        stretch = np.zeros(_ROWS + 2 * span, np.float32)
        mirrored = signal[1 : 1 + span]
        stretch[span - mirrored.shape[0] : span] = mirrored[::-1]
        ahead = signal[: _ROWS + span]
        stretch[span : span + ahead.shape[0]] = ahead
        values = np.abs(stretch @ interp.toeplitz).reshape(interp.oversample + 1, _ROWS)
        return values.max(axis=0)[:k] * np.float32(float_scale(x.dtype))

    return head(x), head(x[::-1])[::-1]


def _peaks_around(
    x: np.ndarray, starts: np.ndarray, length: int, interp: _Interpolator
) -> np.ndarray:
    """Envelope of the samples ``[s, s + length)`` for each ``s`` in ``starts`` (zeros outside x).

    Returns np.ndarray [shape=(len(starts), length)], float32, linear.
    """
    span = interp.half_span
    stretches = _gather(x, starts - span, length + 2 * span)
    windows = sliding_window_view(stretches, _ROWS + 2 * span, axis=1)[:, ::_ROWS]
    values = windows.reshape(-1, _ROWS + 2 * span) @ interp.toeplitz
    np.abs(values, out=values)
    return (
        values.reshape(len(starts), -1, interp.oversample + 1, _ROWS)
        .max(axis=2)
        .reshape(len(starts), length)
    )


def _gather(x: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Rows ``x[s : s + width]`` for each start, zero where they reach outside x; float32, scaled."""
    n = x.shape[0]
    rows = np.zeros((len(starts), width), np.float32)
    inside = (starts >= 0) & (starts + width <= n)
    if inside.any():
        rows[inside] = sliding_window_view(x, width)[starts[inside]]
    for row in np.flatnonzero(~inside):  # only rows at the two ends of the signal
        lo, hi = max(starts[row], 0), min(starts[row] + width, n)
        if lo < hi:
            rows[row, lo - starts[row] : hi - starts[row]] = x[lo:hi]
    scale = float_scale(x.dtype)
    if scale != 1.0:
        rows *= np.float32(scale)
    return rows


def _checked_signal(x: np.ndarray, *, allow_channels: bool) -> list[np.ndarray]:
    """The channels of x as 1-D arrays, after checking shape and dtype (finiteness: _bounds)."""
    x = np.asarray(x)
    if x.dtype != np.int16 and not np.issubdtype(x.dtype, np.floating):
        raise InvalidParamsError(f"x must be float or int16 PCM, got dtype {x.dtype}")
    if x.ndim == 1:
        channels = [x]
    elif x.ndim == 2 and allow_channels:
        channels = [x[:, channel] for channel in range(x.shape[1])]
    else:
        raise InvalidParamsError(
            f"x must be 1-D{' or 2-D' if allow_channels else ''}, got shape {x.shape}"
        )
    return channels


def _checked_oversample(oversample: int) -> int:
    if (
        isinstance(oversample, bool)
        or not isinstance(oversample, int | np.integer)
        or not 2 <= oversample <= 32
        or oversample % 2
    ):
        # The phases are centred on each sample (offsets -L/2 .. L/2), which needs L even.
        raise InvalidParamsError(
            f"oversample must be an even integer in [2, 32], got {oversample!r}"
        )
    return int(oversample)
