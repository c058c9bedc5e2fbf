"""Chunk plan: where the 18 s chunks of a stem start and stop, in samples.

A stem of ``n`` samples is cut into chunks of ``chunk_samples`` that start every
``stride_samples = chunk_samples - overlap_samples``; consecutive chunks share exactly
``overlap_samples``, which :func:`voxregen_core.crossfade.stitch` crossfades. A stem no longer
than one chunk is one chunk. Otherwise the last chunk is cut short at the end of the stem, and
the count is the smallest that reaches the end, so the last chunk always holds more than the
overlap (every chunk contributes samples of its own)::

    chunks_total = 1                                            if n <= chunk_samples
    chunks_total = ceil((n - overlap_samples) / stride_samples) otherwise

An 8-minute stem (480 s) at 48 kHz with 18 s chunks and 2 s overlap gives 30 chunks.
"""

import numbers

import attrs

from voxregen_core import spec, units
from voxregen_core.errors import InvalidParamsError


@attrs.frozen
class ChunkSpan:
    """Chunk ``index`` covers samples ``[start, stop)`` of the 48 kHz stem."""

    index: int
    start: int
    stop: int

    @property
    def n_samples(self) -> int:
        return self.stop - self.start


@attrs.frozen
class ChunkPlan:
    """The chunks of one stem, in index order; lengths are in samples."""

    n_samples: int
    chunk_samples: int
    overlap_samples: int
    stride_samples: int
    spans: tuple[ChunkSpan, ...]

    @property
    def chunks_total(self) -> int:
        return len(self.spans)


def plan_chunks(
    n_samples: int,
    *,
    sample_rate_hz: int = spec.SAMPLE_RATE_HZ,
    chunk_s: float = spec.CHUNK_S,
    overlap_s: float = spec.OVERLAP_S,
) -> ChunkPlan:
    """Plan the chunks of a stem of ``n_samples`` (>= 1).

    ``overlap_s`` may be at most half of ``chunk_s``, so that only consecutive chunks overlap.
    Raises :class:`InvalidParamsError` for anything else.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise InvalidParamsError(f"n_samples must be a whole number >= 1, got {n_samples!r}")
    n_samples = int(n_samples)
    if sample_rate_hz <= 0:
        raise InvalidParamsError(f"sample_rate_hz must be > 0, got {sample_rate_hz!r}")
    chunk_samples = units.seconds_to_samples(chunk_s, sample_rate_hz=sample_rate_hz)
    overlap_samples = units.seconds_to_samples(overlap_s, sample_rate_hz=sample_rate_hz)
    if chunk_samples < 1 or not 0 <= 2 * overlap_samples <= chunk_samples:
        raise InvalidParamsError(
            f"need chunk_s > 0 and 0 <= overlap_s <= chunk_s / 2, got chunk_s={chunk_s!r}, "
            f"overlap_s={overlap_s!r}"
        )
    stride_samples = chunk_samples - overlap_samples
    if n_samples <= chunk_samples:
        chunks_total = 1
    else:
        chunks_total = -(-(n_samples - overlap_samples) // stride_samples)  # ceil division
    spans = tuple(
        ChunkSpan(
            index=index,
            start=index * stride_samples,
            stop=min(index * stride_samples + chunk_samples, n_samples),
        )
        for index in range(chunks_total)
    )
    return ChunkPlan(
        n_samples=n_samples,
        chunk_samples=chunk_samples,
        overlap_samples=overlap_samples,
        stride_samples=stride_samples,
        spans=spans,
    )
