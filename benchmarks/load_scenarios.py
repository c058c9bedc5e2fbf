"""The load scenarios of docs/reliability.md ("Load and scale"), run over HTTP against a
running service whose worker processes each log to a file of their own. ``make load``
(:mod:`benchmarks.load`) times them; ``tests/e2e/test_load.py`` checks their outcomes.

- :func:`run_burst`: many short jobs submitted at once, while a pool of threads hammers
  ``GET /v1/render-jobs/{id}`` (recording each request's latency) until every job is finished.
- :func:`run_spread`: one long job, and which worker process generated which of its chunks
  and who stitched and delivered it, read from the workers' JSON log lines.
- :func:`run_kill_recovery`: a worker killed with SIGKILL mid-chunk while another one idles,
  and how long the survivor took to start on the killed chunk (``benchmarks/recovery.py``
  prints it; ``tests/e2e/test_crashes.py`` checks it).
- :func:`run_two_users`: one user's backlog of many jobs, then another user's single job, and
  when each job was created, started and done, from the job rows and ledgers (issue 13's
  fairness; ``benchmarks/fairness.py`` prints it, ``tests/e2e/test_load.py`` checks it).
"""

import io
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx
import numpy as np
import soundfile as sf

from tests.e2e.stack import (
    HTTP_TIMEOUT_S,
    STEM_RATE_HZ,
    ServiceProcess,
    Stack,
    User,
    singing_wav,
    wait_for,
)

FINISHED = frozenset({"done", "failed"})
LOG_WAIT_S = 10.0
"""How long the workers may take to write a job's last log line after the job is done."""


def burst_wavs(count: int, *, shortest_s: float = 4.0, longest_s: float = 20.0) -> list[bytes]:
    """``count`` stems, their lengths spread evenly from ``shortest_s`` to ``longest_s`` (one
    or two chunks each)."""
    return [
        singing_wav(float(duration_s), seed=seed)
        for seed, duration_s in enumerate(np.linspace(shortest_s, longest_s, count))
    ]


def _frames(wav: bytes) -> int:
    return sf.info(io.BytesIO(wav)).frames


@attrs.frozen
class BurstRun:
    """What :func:`run_burst` saw: each job's last state (by id, in submission order) and the
    length of its stem (44.1 kHz frames), the wall time from the first submission until every
    job was seen finished, and the latency of each ``GET`` job request made meanwhile."""

    jobs: dict[str, dict[str, Any]]
    input_frames: dict[str, int]
    wall_s: float
    get_latencies_s: list[float]

    @property
    def audio_s(self) -> float:
        return sum(self.input_frames.values()) / STEM_RATE_HZ

    def latency_ms(self, percent: float) -> float:
        """The GET latencies' ``percent`` percentile, in ms."""
        return 1000.0 * percentile(self.get_latencies_s, percent)


def percentile(values: Sequence[float], percent: float) -> float:
    """The nearest-rank ``percent`` percentile: the least value with at least ``percent`` % of
    the values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, int(np.ceil(percent / 100 * len(ordered)))) - 1]


def run_burst(user: User, wavs: Sequence[bytes], *, pollers: int, timeout_s: float) -> BurstRun:
    """As ``user``, upload every stem first (untimed), create one job per stem all at once (a
    thread per job), and hammer ``GET`` job from ``pollers`` threads until all are finished."""
    profile_id = user.ready_profile(timeout_s=timeout_s)
    keys = [user.uploaded_input(wav)["object_key"] for wav in wavs]
    started_s = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        job_ids = list(pool.map(lambda key: user.create_job(profile_id, key)["id"], keys))
    probe = _Probe(user, job_ids)
    probe.run(pollers=pollers, deadline_s=time.monotonic() + timeout_s)
    return BurstRun(
        jobs={job_id: probe.last[job_id] for job_id in job_ids},
        input_frames={job_id: _frames(wav) for job_id, wav in zip(job_ids, wavs, strict=True)},
        wall_s=time.perf_counter() - started_s,
        get_latencies_s=probe.latencies_s,
    )


class _Probe:
    """Threads that GET the unfinished jobs round-robin as fast as the API answers, each on
    a connection of its own, keeping each job's latest state (a finished one is final) and
    every request's latency."""

    def __init__(self, user: User, job_ids: list[str]) -> None:
        self.user = user
        self.job_ids = job_ids
        self.last: dict[str, dict[str, Any]] = {}
        self.latencies_s: list[float] = []
        self._lock = threading.Lock()
        self._all_finished = threading.Event()

    def run(self, *, pollers: int, deadline_s: float) -> None:
        with ThreadPoolExecutor(max_workers=pollers) as pool:
            polls = [pool.submit(self._poll, offset, deadline_s) for offset in range(pollers)]
            for poll in polls:
                poll.result()
        unfinished = [job_id for job_id in self.job_ids if not self._finished(job_id)]
        assert not unfinished, (
            f"{len(unfinished)} of {len(self.job_ids)} jobs not finished in time: "
            f"{[self.last.get(job_id) for job_id in unfinished[:3]]}"
        )

    def _finished(self, job_id: str) -> bool:
        return self.last.get(job_id, {}).get("status") in FINISHED

    def _poll(self, offset: int, deadline_s: float) -> None:
        with httpx.Client(
            base_url=self.user.http.base_url,
            headers=self.user.http.headers,
            timeout=HTTP_TIMEOUT_S,
        ) as client:
            for index in range(offset, 2**62):
                if self._all_finished.is_set() or time.monotonic() > deadline_s:
                    return
                job_id = self.job_ids[index % len(self.job_ids)]
                if self._finished(job_id):
                    continue
                sent_s = time.perf_counter()
                response = client.get(f"/v1/render-jobs/{job_id}")
                latency_s = time.perf_counter() - sent_s
                assert response.status_code == 200, response.text
                with self._lock:
                    self.latencies_s.append(latency_s)
                    if not self._finished(job_id):
                        self.last[job_id] = response.json()
                    if all(self._finished(job_id) for job_id in self.job_ids):
                        self._all_finished.set()


@attrs.frozen
class JobEvents:
    """One job's JSON log lines, by worker process name."""

    by_worker: dict[str, list[dict[str, Any]]]

    def count(self, event: str, **fields: Any) -> dict[str, int]:
        """How many ``event`` lines with these field values each worker logged."""
        return {
            worker: sum(_matches(line, event, fields) for line in lines)
            for worker, lines in self.by_worker.items()
        }

    def lines(self, event: str, **fields: Any) -> list[dict[str, Any]]:
        """Every worker's ``event`` lines with these field values."""
        return [
            line
            for lines in self.by_worker.values()
            for line in lines
            if _matches(line, event, fields)
        ]

    def total(self, event: str, **fields: Any) -> int:
        return len(self.lines(event, **fields))


def _matches(line: dict[str, Any], event: str, fields: dict[str, Any]) -> bool:
    return line.get("event") == event and all(line.get(k) == v for k, v in fields.items())


def job_events(stack: Stack, job_id: str) -> JobEvents:
    return JobEvents(
        by_worker={
            worker.name: [line for line in worker.events() if line.get("job_id") == job_id]
            for worker in stack.workers
        }
    )


@attrs.frozen
class SpreadRun:
    """What :func:`run_spread` saw: the job's last state, the wall time from its creation
    until it was seen done, and the workers' log lines about it."""

    job: dict[str, Any]
    wall_s: float
    events: JobEvents


def run_spread(stack: Stack, user: User, wav: bytes, *, timeout_s: float) -> SpreadRun:
    """Render ``wav`` as one job of ``user``'s; its log lines once the deliverer has logged
    ``render_job_done`` (or a worker ``render_job_failed``)."""
    profile_id = user.ready_profile(timeout_s=timeout_s)
    key = user.uploaded_input(wav)["object_key"]
    started_s = time.perf_counter()
    job_id = user.create_job(profile_id, key)["id"]
    job = wait_for(
        lambda: user.job(job_id),
        until=lambda job: job["status"] in FINISHED,
        what=f"job {job_id} to finish",
        timeout_s=timeout_s,
        context=stack.logs,
    )
    wall_s = time.perf_counter() - started_s
    events = wait_for(
        lambda: job_events(stack, job_id),
        until=lambda events: events.total("render_job_done") + events.total("render_job_failed"),
        what=f"job {job_id}'s last log line",
        timeout_s=LOG_WAIT_S,
        context=stack.logs,
    )
    return SpreadRun(job=job, wall_s=wall_s, events=events)


def logged_at(line: dict[str, Any]) -> datetime:
    """When a JSON log line was written (its ISO UTC ``timestamp``)."""
    return datetime.fromisoformat(line["timestamp"])


@attrs.frozen
class RecoveryRun:
    """What :func:`run_kill_recovery` saw: every state of the job polled, the chunk the killed
    worker was generating, the chunks it had recorded, and the seconds from the kill until
    the survivor logged ``render_chunk_generating`` for that chunk."""

    states: list[dict[str, Any]]
    killed_chunk: int
    recorded_by_killed: frozenset[int]
    resumed_s: float
    events: JobEvents


def run_kill_recovery(
    stack: Stack,
    user: User,
    wav: bytes,
    *,
    killed_env: dict[str, str],
    survivor_env: dict[str, str],
    timeout_s: float,
) -> RecoveryRun:
    """Render ``wav`` as one job of ``user``'s on a new worker (``killed_env``; it builds the
    profile too); once it is generating a chunk, start a second worker (``survivor_env``),
    SIGKILL the first, and wait for the job to finish."""
    killed = stack.start_worker(killed_env)
    job_id = user.submit(user.ready_profile(timeout_s=timeout_s), wav)
    wait_for(
        lambda: _in_flight(killed, job_id) is not None,
        what=f"{killed.name} to generate a chunk",
        timeout_s=timeout_s,
        context=stack.logs,
    )
    survivor = stack.start_worker(survivor_env)
    killed_chunk = wait_for(
        lambda: _in_flight(killed, job_id),
        until=lambda chunk_index: chunk_index is not None,
        what=f"{killed.name} to be inside a chunk once {survivor.name} runs",
        timeout_s=timeout_s,
        context=stack.logs,
    )
    killed.kill()
    killed_at = datetime.now(UTC)
    (picked_up, *_) = wait_for(
        lambda: [
            line
            for line in survivor.events("render_chunk_generating")
            if line["job_id"] == job_id and line["chunk_index"] == killed_chunk
        ],
        what=f"{survivor.name} to generate chunk {killed_chunk}",
        timeout_s=timeout_s,
        context=stack.logs,
    )
    states = user.finished(job_id, timeout_s=timeout_s)
    return RecoveryRun(
        states=states,
        killed_chunk=killed_chunk,
        recorded_by_killed=frozenset(
            line["chunk_index"]
            for line in killed.events("render_chunk")
            if line["job_id"] == job_id
        ),
        resumed_s=(logged_at(picked_up) - killed_at).total_seconds(),
        events=job_events(stack, job_id),
    )


def _in_flight(worker: ServiceProcess, job_id: str) -> int | None:
    """The job's chunk the worker is generating now (it logged ``render_chunk_generating`` for
    it and has not recorded it), if any."""
    lines = [
        line
        for line in worker.events()
        if line.get("job_id") == job_id
        and line.get("event") in ("render_chunk_generating", "render_chunk")
    ]
    if lines and lines[-1]["event"] == "render_chunk_generating":
        return lines[-1]["chunk_index"]
    return None


@attrs.frozen
class JobTimes:
    """A job's life from its row and ledger (the database's and the workers' clocks, one
    machine): created by the API, started (a worker took its first unit: the ledger's
    ``started_at``, before the stem was prepared), done (the row's last update)."""

    job_id: str
    created_at: datetime
    started_at: datetime
    done_at: datetime

    @property
    def wait_to_start_s(self) -> float:
        return (self.started_at - self.created_at).total_seconds()

    @property
    def wait_to_done_s(self) -> float:
        return (self.done_at - self.created_at).total_seconds()


@attrs.frozen
class TwoUsersRun:
    """What :func:`run_two_users` saw: the times of the backlog user's jobs (in submission
    order) and of the other user's job, and the states each job ended in."""

    backlog: list[JobTimes]
    newcomer: JobTimes
    states: dict[str, dict[str, Any]]

    @property
    def backlog_at_newcomer(self) -> int:
        """The backlog user's jobs not done yet when the newcomer's job was created."""
        return sum(job.done_at > self.newcomer.created_at for job in self.backlog)

    @property
    def backlog_left_at_newcomer_done(self) -> int:
        """The backlog user's jobs not done yet when the newcomer's job was."""
        return sum(job.done_at > self.newcomer.done_at for job in self.backlog)

    @property
    def backlog_drained_s(self) -> float:
        """From the newcomer's job's creation to the backlog user's last job done."""
        last_done = max(job.done_at for job in self.backlog)
        return (last_done - self.newcomer.created_at).total_seconds()


def run_two_users(
    stack: Stack,
    wavs: Sequence[bytes],
    newcomer_wav: bytes,
    *,
    timeout_s: float,
) -> TwoUsersRun:
    """A user with a ready profile creates one job per stem of ``wavs`` all at once (a thread
    per request; the stems uploaded first, untimed); once the first of them is done (the
    workers busy with the rest), another user creates one job of ``newcomer_wav``. Waits
    until every job is finished."""
    ada, bob = stack.user(), stack.user()
    profiles = {user.id: user.ready_profile(timeout_s=timeout_s) for user in (ada, bob)}
    keys = [ada.uploaded_input(wav)["object_key"] for wav in wavs]
    newcomer_key = bob.uploaded_input(newcomer_wav)["object_key"]
    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        job_ids = list(pool.map(lambda key: ada.create_job(profiles[ada.id], key)["id"], keys))
    first = ada.finished(job_ids[0], timeout_s=timeout_s)[-1]
    newcomer_id = bob.create_job(profiles[bob.id], newcomer_key)["id"]
    states = {newcomer_id: bob.finished(newcomer_id, timeout_s=timeout_s)[-1], job_ids[0]: first}
    for job_id in job_ids[1:]:
        states[job_id] = ada.finished(job_id, timeout_s=timeout_s)[-1]
    failed = [state for state in states.values() if state["status"] != "done"]
    assert not failed, f"{len(failed)} jobs not done: {failed[:3]}\n{stack.logs()}"
    with stack.service() as service:

        def times(user: User, job_id: str) -> JobTimes:
            job = service.jobs.get(user_id=user.id, job_id=uuid.UUID(job_id))
            ledger = service.jobs.ledger(user_id=user.id, job_id=uuid.UUID(job_id))
            return JobTimes(
                job_id=job_id,
                created_at=job.created_at,
                started_at=ledger.started_at,
                done_at=job.updated_at,
            )

        return TwoUsersRun(
            backlog=[times(ada, job_id) for job_id in job_ids],
            newcomer=times(bob, newcomer_id),
            states=states,
        )
