"""Crashes, with real processes: a worker killed with SIGKILL mid-chunk, again and again on one
job, and the same job's messages delivered twice to two workers at once. The job completes,
its output is byte for byte that of an uninterrupted render, and no chunk is generated more
than the crashes explain. With the default heartbeat settings, a survivor starts on a killed
worker's chunk within 15 s; and a worker busy on chunks longer than its heartbeat timeout is
not taken for dead.

The uninterrupted render to compare with is :func:`tests.e2e.stack.uninterrupted_render`: the
same job rendered in this process in one go (see there why that is the sound reference).
"""

import collections
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from benchmarks.load_scenarios import logged_at, run_kill_recovery
from tests.e2e.stack import (
    ServiceProcess,
    Stack,
    assert_same_bytes,
    check_done,
    singing_wav,
    stem_s_for,
    uninterrupted_render,
    wait_for,
)
from tests.integration.migrated_database import connected
from voxregen_adapters.settings import DEFAULT_HEARTBEAT_TIMEOUT_S
from voxregen_core.keys import job_input_key, job_output_key, job_prefix

CHUNKS = 7
STEM_S = stem_s_for(CHUNKS)
KILLS = 5
SECONDS_PER_CHUNK = "1.5"
"""The stub's time per chunk: long enough that a kill lands inside a chunk, short enough that
a job of seven takes seconds."""
WORKER_THREADS = 2
"""As by default (pinned: a kill costs at most one chunk per thread)."""
WORKER_ENV = {
    "VOXREGEN_WORKER_THREADS": str(WORKER_THREADS),
    "VOXREGEN_STUB_SECONDS_PER_CHUNK": SECONDS_PER_CHUNK,
    "VOXREGEN_WORKER_HEARTBEAT_TIMEOUT_S": "3",
    "VOXREGEN_STALL_TIMEOUT_S": "6",
}
"""A killed worker's messages come back after its heartbeat times out (3 s, plus up to about
2 s until a survivor's next poll); the sweeper re-queues a job unchanged for 6 s."""
JOB_TIMEOUT_S = 120.0
RECOVERY_CHUNKS = 2
RESUMED_WITHIN_S = 15.0
"""Issue 11's bound: a job whose worker died resumes on a surviving worker this soon."""
BUSY_HEARTBEAT_TIMEOUT_S = 3.0
BUSY_ENV = {
    "VOXREGEN_STUB_SECONDS_PER_CHUNK": "6",
    "VOXREGEN_WORKER_HEARTBEAT_TIMEOUT_S": f"{BUSY_HEARTBEAT_TIMEOUT_S:g}",
}
"""Chunks of 6 s, twice the heartbeat timeout: the second chunk's message waits in the busy
worker's hands behind the first for longer still (a tighter timeout than the default 10 s, for
a harder test and a shorter one)."""


@pytest.mark.slow
def test_five_kill_9s_mid_chunk_cost_only_the_chunks_in_flight_and_change_no_byte(
    api_stack, tmp_path
):
    """Each kill loses the chunks the worker had in hand: the one it was generating and, with
    its second thread, the one waiting for the (paced, one at a time) generator; never more,
    and never one it had recorded."""
    stack = api_stack
    worker = stack.start_worker(WORKER_ENV)
    ada = stack.user()
    stem = singing_wav(STEM_S, seed=3)
    job_id = ada.submit(ada.ready_profile(), stem)

    killed: list[tuple[ServiceProcess, int]] = []
    for _ in range(KILLS):
        chunk_index = _wait(
            lambda worker=worker: _in_flight_after_one_recorded(worker),
            stack,
            what=f"{worker.name} to record a chunk, then start another",
        )
        worker.kill()
        killed.append((worker, chunk_index))
        job = ada.job(job_id)
        assert job["status"] == "running", job
        assert job["progress"]["chunks_done"] < CHUNKS, job
        worker = stack.start_worker(WORKER_ENV)
    states = ada.finished(job_id, timeout_s=JOB_TIMEOUT_S)

    check_done(states, chunks=CHUNKS, context=stack.logs)
    lost = collections.Counter()
    for process, chunk_index in killed:  # each kill landed inside a chunk
        in_hand = _started_not_recorded(process, job_id)
        assert chunk_index in in_hand, (
            f"{process.name} recorded chunk {chunk_index} before it was killed"
        )
        assert len(in_hand) <= WORKER_THREADS, (process.name, in_hand)
        lost.update(in_hand)
    generations = _generations(stack, job_id)
    assert set(generations) == set(range(CHUNKS)), generations
    assert sum(generations.values()) <= CHUNKS + lost.total(), (generations, lost)
    for chunk_index, count in generations.items():
        assert count <= 1 + lost[chunk_index], (chunk_index, count, lost)
    assert len(stack.events("render_job_done")) == 1
    with stack.service() as service:
        ledger = service.jobs.ledger(user_id=ada.id, job_id=uuid.UUID(job_id))
        assert ledger.generated <= CHUNKS + lost.total(), ledger
    assert_same_bytes(ada.download(job_id), uninterrupted_render(stack, ada.id, job_id, tmp_path))
    assert stack.stored_input(ada.id, job_id) == stem


@pytest.mark.slow
def test_every_message_twice_to_two_workers_gives_one_output_and_one_set_of_rows(
    api_stack, tmp_path
):
    stack = api_stack
    env = {"VOXREGEN_STUB_SECONDS_PER_CHUNK": "0.5"}
    stack.start_worker(env)
    stack.start_worker(env)
    ada = stack.user()
    stem = singing_wav(STEM_S, seed=3)
    job_id = ada.submit(ada.ready_profile(), stem)
    with stack.service() as service:
        for _ in range(2):  # the API sent one render_job; two more race it on two workers
            service.queue.enqueue_render_job(user_id=ada.id, job_id=uuid.UUID(job_id))
        _wait(lambda: stack.events("render_job_fanned_out"), stack, what="the fan-out")
        for chunk_index in [*range(CHUNKS), *range(CHUNKS)]:
            service.queue.enqueue_render_chunk(
                user_id=ada.id, job_id=uuid.UUID(job_id), chunk_index=chunk_index
            )
    states = ada.finished(job_id, timeout_s=JOB_TIMEOUT_S)
    _wait(lambda: stack.pending_messages() == 0, stack, what="every message to be handled")

    check_done(states, chunks=CHUNKS, context=stack.logs)
    assert {event["process"] for event in stack.events("render_chunk")} == {
        "worker-1",
        "worker-2",
    }, "both workers should have taken part"
    assert len(stack.events("render_job_done")) == 1
    with stack.service() as service:
        objects = service.store.list(job_prefix(ada.id, uuid.UUID(job_id)))
        # the input and the output: the chunks were deleted once the job was delivered
        assert objects == [
            job_input_key(ada.id, uuid.UUID(job_id)),
            job_output_key(ada.id, uuid.UUID(job_id)),
        ], objects
        ledger = service.jobs.ledger(user_id=ada.id, job_id=uuid.UUID(job_id))
        assert ledger.stored == set(range(CHUNKS)), ledger
        with connected(service.settings.database_url) as connection:
            assert _count(connection, "render_jobs") == 1
            assert _count(connection, "render_jobs WHERE status = 'done'") == 1
            assert _count(connection, "stem_feature_cache") == 1
    assert_same_bytes(ada.download(job_id), uninterrupted_render(stack, ada.id, job_id, tmp_path))


@pytest.mark.slow
def test_a_job_whose_worker_is_killed_mid_chunk_resumes_on_the_survivor_within_15_s(api_stack):
    stack = api_stack  # no heartbeat setting anywhere: the defaults
    run = run_kill_recovery(
        stack,
        stack.user(),
        singing_wav(stem_s_for(RECOVERY_CHUNKS), seed=5),
        killed_env={"VOXREGEN_STUB_SECONDS_PER_CHUNK": "6"},
        survivor_env={},
        timeout_s=JOB_TIMEOUT_S,
    )

    assert {line["heartbeat_timeout_s"] for line in stack.events("worker_started")} == {
        DEFAULT_HEARTBEAT_TIMEOUT_S
    }
    check_done(run.states, chunks=RECOVERY_CHUNKS, context=stack.logs)
    assert run.killed_chunk not in run.recorded_by_killed, "the kill should land mid-chunk"
    assert run.resumed_s < RESUMED_WITHIN_S, f"resumed {run.resumed_s:.1f} s after the kill"
    assert run.events.total("render_job_done") == 1


@pytest.mark.slow
def test_a_worker_busy_longer_than_its_heartbeat_timeout_keeps_its_messages(api_stack):
    stack = api_stack
    busy = stack.start_worker(BUSY_ENV)
    ada = stack.user()
    job_id = ada.submit(ada.ready_profile(), singing_wav(stem_s_for(RECOVERY_CHUNKS), seed=5))
    _wait(  # both chunks' messages in the busy worker's hands: one generating, one waiting on the second thread
        lambda: (
            busy.events("render_chunk_generating")
            and stack.queued_and_in_hand() == (0, RECOVERY_CHUNKS)
        ),
        stack,
        what=f"{busy.name} to generate a chunk with the other one in hand",
    )
    watcher = stack.start_worker(BUSY_ENV)  # looks for dead workers at each poll, all along
    states = ada.finished(job_id, timeout_s=JOB_TIMEOUT_S)

    check_done(states, chunks=RECOVERY_CHUNKS, context=stack.logs)
    generations = [
        (line["process"], line["chunk_index"])
        for line in stack.events("render_chunk_generating")
        if line["job_id"] == job_id
    ]
    expected = [(busy.name, chunk_index) for chunk_index in range(RECOVERY_CHUNKS)]
    assert sorted(generations) == expected, f"{generations}\n{stack.logs()}"
    with stack.service() as service:
        assert (
            service.jobs.ledger(user_id=ada.id, job_id=uuid.UUID(job_id)).generated
            == RECOVERY_CHUNKS
        )
    # the last chunk's message stayed in hand, watched, for over twice the timeout
    (watching,) = watcher.events("worker_started")
    last_recorded = max(logged_at(line) for line in busy.events("render_chunk"))
    watched_s = (last_recorded - logged_at(watching)).total_seconds()
    assert watched_s > 2 * BUSY_HEARTBEAT_TIMEOUT_S, watched_s


def _in_flight_after_one_recorded(worker: ServiceProcess) -> int | None:
    """The chunk the worker is generating now, if it has recorded one before; else None."""
    events = [
        event
        for event in worker.events()
        if event.get("event") in ("render_chunk_generating", "render_chunk")
    ]
    recorded = any(event["event"] == "render_chunk" for event in events)
    if recorded and events[-1]["event"] == "render_chunk_generating":
        return events[-1]["chunk_index"]
    return None


def _wait(read, stack: Stack, *, what: str) -> Any:
    """``read()`` once it is something (not None, False or empty), waiting up to
    ``JOB_TIMEOUT_S``."""
    return wait_for(
        read,
        until=lambda value: value is not None and value is not False and value != [],
        what=what,
        timeout_s=JOB_TIMEOUT_S,
        context=stack.logs,
    )


def _started_not_recorded(worker: ServiceProcess, job_id: str) -> set[int]:
    """The job's chunks the worker started generating and did not record: those it had in
    hand when it died."""
    started, recorded = (
        {event["chunk_index"] for event in worker.events(name) if event["job_id"] == job_id}
        for name in ("render_chunk_generating", "render_chunk")
    )
    return started - recorded


def _generations(stack: Stack, job_id: str) -> collections.Counter:
    """How many times each chunk of the job was started by a generator, over every worker."""
    return collections.Counter(
        event["chunk_index"]
        for event in stack.events("render_chunk_generating")
        if event["job_id"] == job_id
    )


def _count(connection: sa.Connection, table_where: str) -> int:
    return connection.execute(sa.text(f"SELECT count(*) FROM {table_where}")).scalar_one()
