import math

import pytest
from hypothesis import given

from tests import strategies as vst
from voxregen_core.chunking import plan_chunks
from voxregen_core.errors import InvalidParamsError

CHUNK = vst.SAMPLES_PER_CHUNK
OVERLAP = vst.SAMPLES_PER_OVERLAP
STRIDE = vst.SAMPLES_PER_STRIDE


def test_the_brief_numbers_in_samples():
    plan = plan_chunks(CHUNK + 1)
    assert (plan.chunk_samples, plan.overlap_samples, plan.stride_samples) == (
        864_000,
        96_000,
        768_000,
    )


@given(vst.stem_samples)
def test_chunks_cover_the_stem_without_gap(n_samples):
    plan = plan_chunks(n_samples)
    spans = plan.spans
    assert plan.n_samples == n_samples
    assert spans[0].start == 0
    assert spans[-1].stop == n_samples
    assert [span.index for span in spans] == list(range(plan.chunks_total))
    for span in spans:
        assert 0 < span.stop - span.start <= CHUNK
        assert span.n_samples == span.stop - span.start
    for previous, span in zip(spans, spans[1:], strict=False):
        assert span.start == previous.start + STRIDE
        assert previous.stop - span.start == OVERLAP  # overlap exactly, so no gap either
        assert span.stop - span.start > OVERLAP  # every chunk brings samples of its own


@given(vst.stem_samples)
def test_count_formula(n_samples):
    expected = 1 if n_samples <= CHUNK else math.ceil((n_samples - OVERLAP) / STRIDE)
    assert plan_chunks(n_samples).chunks_total == expected


@given(vst.chunk_counts.flatmap(lambda k: vst.stem_samples_for_count(k).map(lambda n: (k, n))))
def test_count_is_the_smallest_that_reaches_the_end(count_and_samples):
    chunks_total, n_samples = count_and_samples
    assert plan_chunks(n_samples).chunks_total == chunks_total


@pytest.mark.parametrize(
    ("duration_s", "chunks_total"),
    [(1.0, 1), (18.0, 1), (18.5, 2), (34.0, 2), (34.5, 3), (60.0, 4), (480.0, 30)],
)
def test_counts_for_durations(duration_s, chunks_total):
    assert plan_chunks(round(duration_s * 48_000)).chunks_total == chunks_total


def test_one_sample_past_a_chunk_makes_a_second_chunk_longer_than_the_overlap():
    plan = plan_chunks(CHUNK + 1)
    assert [(span.start, span.stop) for span in plan.spans] == [(0, CHUNK), (STRIDE, CHUNK + 1)]


def test_other_rates_and_lengths():
    plan = plan_chunks(100, sample_rate_hz=10, chunk_s=3.0, overlap_s=1.0)
    assert [(span.start, span.stop) for span in plan.spans] == [
        (0, 30),
        (20, 50),
        (40, 70),
        (60, 90),
        (80, 100),
    ]


@pytest.mark.parametrize("n_samples", [0, -5, 1.5, True, "10"])
def test_refuses_bad_lengths(n_samples):
    with pytest.raises(InvalidParamsError, match=f"n_samples must be .* got {n_samples!r}"):
        plan_chunks(n_samples)


@pytest.mark.parametrize(("chunk_s", "overlap_s"), [(0.0, 0.0), (4.0, 2.5), (4.0, -1.0)])
def test_refuses_overlaps_that_would_join_three_chunks(chunk_s, overlap_s):
    with pytest.raises(InvalidParamsError, match=f"overlap_s={overlap_s!r}"):
        plan_chunks(1000, chunk_s=chunk_s, overlap_s=overlap_s)
