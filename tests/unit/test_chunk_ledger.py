"""The chunk ledger's rules: only the first recording of the last missing chunk completes it;
an attempt with another chunk count or another embedding starts the chunks over; a chunk of
another embedding is never recorded."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxregen_core.jobs import ChunkLedger, Progress

OLD = "0123456789abcdef"
NEW = "fedcba9876543210"
FIRST = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 9, 5, tzinfo=UTC)


@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=40))
def test_exactly_the_first_recording_of_the_last_missing_chunk_completes(indices):
    ledger = ChunkLedger(chunks_total=6, embedding_fingerprint=OLD)
    completions = []
    for index in indices:
        ledger, completed = ledger.record(index, generated=True, embedding_fingerprint=OLD)
        completions.append(completed)
    assert sum(completions) == (1 if set(indices) == set(range(6)) else 0)
    if any(completions):
        first_complete = max(indices.index(index) for index in range(6))
        assert completions.index(True) == first_complete
    assert ledger.progress == Progress(chunks_done=len(set(indices)), chunks_total=6)
    assert ledger.generated == len(indices)
    assert ledger.missing() == sorted(set(range(6)) - set(indices))


def test_a_chunk_found_stored_counts_as_reused_once():
    ledger = ChunkLedger(chunks_total=2, embedding_fingerprint=OLD)
    ledger, _ = ledger.record(0, generated=False, embedding_fingerprint=OLD)
    ledger, _ = ledger.record(0, generated=False, embedding_fingerprint=OLD)
    ledger, completed = ledger.record(1, generated=True, embedding_fingerprint=OLD)
    assert (ledger.reused, ledger.generated, completed) == (1, 1, True)


def test_the_column_round_trips_and_an_old_row_reads_as_nothing_stored():
    ledger = ChunkLedger(
        chunks_total=3,
        stored={2, 0},
        embedding_fingerprint=OLD,
        generated=3,
        reused=1,
        started_at=FIRST,
        feature_cache_hit=True,
        prepare_stage_ms={"decode": 12.5, "features": 40.0},
    )
    assert ChunkLedger.from_json(ledger.to_json()) == ledger
    assert ledger.to_json()["chunks_done"] == 2  # the API's progress is read from the same column
    assert ChunkLedger.from_json({"chunks_done": 2, "chunks_total": 5}).missing() == list(range(5))


def test_a_chunk_outside_the_plan_is_refused():
    with pytest.raises(ValueError, match=r"stored chunks \[3\] outside 0..2"):
        ChunkLedger(chunks_total=3, embedding_fingerprint=OLD).record(
            3, generated=True, embedding_fingerprint=OLD
        )


def _begun(ledger, *, chunks_total=3, embedding_fingerprint=OLD, started_at=FIRST, hit=False):
    return ledger.begun(
        chunks_total=chunks_total,
        embedding_fingerprint=embedding_fingerprint,
        started_at=started_at,
        feature_cache_hit=hit,
        prepare_stage_ms={"decode": 1.0 if started_at == FIRST else 2.0, "features": 3.0},
    )


def test_a_resumed_attempt_keeps_the_recorded_chunks_and_the_first_start():
    ledger = _begun(ChunkLedger())
    ledger, _ = ledger.record(1, generated=True, embedding_fingerprint=OLD)

    resumed = _begun(ledger, started_at=LATER, hit=True)

    assert resumed == ledger
    assert (resumed.started_at, resumed.feature_cache_hit) == (FIRST, False)
    assert resumed.prepare_stage_ms == {"decode": 1.0, "features": 3.0}


@pytest.mark.parametrize(
    "change",
    [{"chunks_total": 4}, {"embedding_fingerprint": NEW}],
    ids=["another_chunk_count", "another_embedding"],
)
def test_an_attempt_with_another_plan_starts_the_chunks_over_but_not_the_job(change):
    ledger = _begun(ChunkLedger())
    ledger, _ = ledger.record(0, generated=False, embedding_fingerprint=OLD)
    ledger, _ = ledger.record(1, generated=True, embedding_fingerprint=OLD)

    over = _begun(ledger, **change, started_at=LATER, hit=True)

    assert over.stored == frozenset() and over.reused == 0
    assert (over.chunks_total, over.embedding_fingerprint) == (
        change.get("chunks_total", 3),
        change.get("embedding_fingerprint", OLD),
    )
    # the job's runtime runs from its first start; its generated chunks still count
    assert (over.started_at, over.feature_cache_hit, over.generated) == (FIRST, False, 1)
    assert over.prepare_stage_ms == {"decode": 1.0, "features": 3.0}


def test_a_chunk_of_another_embedding_is_not_recorded_and_unlists_its_index():
    ledger = _begun(ChunkLedger(), embedding_fingerprint=NEW)
    ledger, _ = ledger.record(0, generated=True, embedding_fingerprint=NEW)
    ledger, _ = ledger.record(1, generated=True, embedding_fingerprint=NEW)

    # made with the old embedding, written over the new chunk 1 when the rebuild landed
    stale, completed = ledger.record(1, generated=True, embedding_fingerprint=OLD)
    assert (stale.stored, stale.generated, completed) == ({0}, 2, False)
    assert stale.embedding_fingerprint == NEW  # what tells the caller it was refused
    stale, completed = stale.record(2, generated=True, embedding_fingerprint=OLD)
    assert (stale.stored, completed) == ({0}, False)

    for index in (1, 2):
        stale, completed = stale.record(index, generated=True, embedding_fingerprint=NEW)
    assert completed and stale.complete
