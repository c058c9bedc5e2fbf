"""The chunk ledger's rules: only the first recording of the last missing chunk completes it."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxregen_core.jobs import ChunkLedger, Progress


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40))
def test_exactly_the_first_recording_of_the_last_missing_chunk_completes(indices):
    ledger = ChunkLedger(chunks_total=6)
    completions = []
    for index in indices:
        ledger, completed = ledger.record(index, generated=True)
        completions.append(completed)
    assert sum(completions) == (1 if set(indices) == set(range(6)) else 0)
    if any(completions):
        first_complete = max(indices.index(index) for index in range(6))
        assert completions.index(True) == first_complete
    assert ledger.progress == Progress(chunks_done=len(set(indices)), chunks_total=6)
    assert ledger.generated == len(indices)
    assert ledger.missing() == sorted(set(range(6)) - set(indices))


def test_a_chunk_found_stored_counts_as_reused_once():
    ledger = ChunkLedger(chunks_total=2)
    ledger, _ = ledger.record(0, generated=False)
    ledger, _ = ledger.record(0, generated=False)
    ledger, completed = ledger.record(1, generated=True)
    assert (ledger.reused, ledger.generated, completed) == (1, 1, True)


def test_the_column_round_trips_and_an_old_row_reads_as_nothing_stored():
    ledger = ChunkLedger(
        chunks_total=3,
        stored={2, 0},
        generated=3,
        reused=1,
        started_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        feature_cache_hit=True,
    )
    assert ChunkLedger.from_json(ledger.to_json()) == ledger
    assert ledger.to_json()["chunks_done"] == 2  # the API's progress is read from the same column
    assert ChunkLedger.from_json({"chunks_done": 2, "chunks_total": 5}).missing() == list(range(5))


def test_a_chunk_outside_the_plan_is_refused():
    with pytest.raises(ValueError, match=r"stored chunks \[3\] outside 0..2"):
        ChunkLedger(chunks_total=3).record(3, generated=True)


def test_a_resumed_attempt_keeps_the_recorded_chunks_and_the_first_start():
    first = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    ledger = ChunkLedger().begun(chunks_total=3, started_at=first, feature_cache_hit=False)
    ledger, _ = ledger.record(1, generated=True)
    later = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)

    resumed = ledger.begun(chunks_total=3, started_at=later, feature_cache_hit=True)

    assert resumed == ledger
    assert resumed.begun(chunks_total=4, started_at=later, feature_cache_hit=True) == ChunkLedger(
        chunks_total=4, started_at=later, feature_cache_hit=True
    )
