"""Stitching: chunks back into one stem, equal-power crossfaded in the waveform domain.

Over each overlap of ``N = overlap_samples`` the outgoing chunk ``a`` fades out and the
incoming chunk ``b`` fades in with

    theta_i = (pi / 2) * (i + 1/2) / N,    i = 0 .. N-1
    y_i     = (cos(theta_i) * a_i + sin(theta_i) * b_i) / sqrt(1 + 2 * rho * sin(theta_i) * cos(theta_i))

where ``rho`` is the normalized correlation of the two overlap segments, clamped to [0, 1].

Why the divisor: for two signals of equal power ``P`` and correlation ``rho``, the power of a
weighted sum is ``P * (g_out^2 + g_in^2 + 2 * rho * g_out * g_in)`` (the variance of a sum of
correlated variables). Plain sin/cos gains (``g_out^2 + g_in^2 = 1``) keep the power only when
``rho = 0``; two renders of the same passage are strongly correlated and would swell by up to
+3 dB mid-overlap (``1 + 2 * sin * cos = 2`` at theta = pi/4). Dividing both gains by
``sqrt(1 + 2 * rho * sin * cos)`` keeps ``P`` for any ``rho`` in [0, 1]: it is plain sin/cos at
``rho = 0`` and gains summing to exactly 1 at ``rho = 1``. (The idea of adapting crossfade gains
to the measured correlation is R. Bristow-Johnson's, music-dsp mailing list, Nov 2010.)
Anti-correlated overlaps (``rho < 0``) are clamped to 0: cancellation cannot be undone by gain,
and a larger gain would only amplify what is left. A silent segment has ``rho = 0``.

The midpoint angles make the fade symmetric (``g_in[i] = g_out[N-1-i]``) and exact at any N;
stitching copies of one signal (an identity generator) returns that signal.
"""

from collections.abc import Iterable

import numpy as np

from voxregen_core.chunking import ChunkPlan, ChunkSpan
from voxregen_core.errors import InvalidParamsError


def stitch(chunks: Iterable[np.ndarray], plan: ChunkPlan) -> np.ndarray:
    """Join the chunks of ``plan`` into one signal, crossfading every overlap.

    chunks : iterable of np.ndarray [shape=(span.n_samples,)], float, 48 kHz; one per span of
        ``plan``, in index order. Consumed one at a time: the previous chunk's overlap tail is
        the only part of it still needed, and it already sits in the output.

    Returns np.ndarray [shape=(plan.n_samples,)], float32.

    Raises :class:`InvalidParamsError` when a chunk's shape differs from its span or the number
    of chunks differs from the plan's.
    """
    out = np.empty(plan.n_samples, dtype=np.float32)
    theta = 0.5 * np.pi * (np.arange(plan.overlap_samples) + 0.5) / max(1, plan.overlap_samples)
    fade_in, fade_out = np.sin(theta), np.cos(theta)
    received = 0
    for chunk in chunks:
        if received == plan.chunks_total:
            raise InvalidParamsError(f"got more chunks than the plan's {plan.chunks_total}")
        span = plan.spans[received]
        chunk = _checked(chunk, span)
        head = 0 if span.index == 0 else plan.overlap_samples
        if head:
            overlap = out[span.start : span.start + head]  # the previous chunk's tail
            overlap[:] = _crossfade(overlap, chunk[:head], fade_in=fade_in, fade_out=fade_out)
        out[span.start + head : span.stop] = chunk[head:]
        received += 1
    if received != plan.chunks_total:
        raise InvalidParamsError(f"got {received} chunks, the plan has {plan.chunks_total}")
    return out


def _checked(chunk: np.ndarray, span: ChunkSpan) -> np.ndarray:
    chunk = np.asarray(chunk)
    if chunk.shape != (span.n_samples,):
        raise InvalidParamsError(
            f"chunk {span.index} has shape {chunk.shape}, expected ({span.n_samples},)"
        )
    return chunk


def _crossfade(
    outgoing: np.ndarray, incoming: np.ndarray, *, fade_in: np.ndarray, fade_out: np.ndarray
) -> np.ndarray:
    """Correlation-compensated equal-power crossfade of two equally long segments (float64)."""
    a = outgoing.astype(np.float64)
    b = incoming.astype(np.float64)
    norm = np.sqrt(np.dot(a, a)) * np.sqrt(np.dot(b, b))
    rho = float(np.clip(np.dot(a, b) / norm, 0.0, 1.0)) if norm > 0.0 else 0.0
    # Power of g_out·a + g_in·b relative to P: g_out² + g_in² + 2ρ·g_out·g_in; divide it out.
    scale = 1.0 / np.sqrt(1.0 + 2.0 * rho * fade_in * fade_out)
    return (fade_out * a + fade_in * b) * scale
