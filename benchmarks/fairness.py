"""Fairness between users (issue 13), over the real processes: one user's backlog of
``BACKLOG_JOBS`` one-chunk jobs created at once, then another user's single job of
``NEWCOMER_CHUNKS`` chunks, with the stub paced to ``SECONDS_PER_CHUNK`` a chunk (standing in
for GPU time), on one and on two worker processes
(:func:`benchmarks.load_scenarios.run_two_users` on the stack of
:func:`benchmarks.load.running_stack`). Every time comes from the job rows and ledgers. The
figures go into the "Fairness between users" section of docs/benchmarks.md and are printed
(``make load`` runs it after benchmarks/load.py)::

    .venv/bin/python -m benchmarks.fairness
"""

import os
from datetime import UTC, datetime

from benchmarks.bench_render import REPORT
from benchmarks.load import reflowed, running_stack
from benchmarks.load_scenarios import TwoUsersRun, run_two_users
from benchmarks.report import machine, write_section
from tests.e2e.stack import singing_wav, stem_s_for

SECTION = "## Fairness between users"
BACKLOG_JOBS = 50
BACKLOG_STEM_S = 10.0
"""One chunk each: two turns a job (its start, its chunk)."""
NEWCOMER_CHUNKS = 4
SECONDS_PER_CHUNK = 2.0
WORKERS = (1, 2)
TIMEOUT_S = 900.0


def two_users(workers: int) -> TwoUsersRun:
    pace = {"VOXREGEN_STUB_SECONDS_PER_CHUNK": f"{SECONDS_PER_CHUNK:g}"}
    with running_stack(workers, pace) as stack:
        return run_two_users(
            stack,
            [singing_wav(BACKLOG_STEM_S, seed=seed) for seed in range(BACKLOG_JOBS)],
            singing_wav(stem_s_for(NEWCOMER_CHUNKS), seed=7),
            timeout_s=TIMEOUT_S,
        )


def section(runs: dict[int, TwoUsersRun], *, load_average: float) -> str:
    rows = "\n".join(
        f"| {workers} | {run.backlog_at_newcomer} of {len(run.backlog)} | "
        f"**{run.newcomer.wait_to_start_s:.1f}** | **{run.newcomer.wait_to_done_s:.1f}** | "
        f"{run.backlog_left_at_newcomer_done} | {run.backlog_drained_s:.1f} |"
        for workers, run in runs.items()
    )
    return reflowed(f"""{SECTION}

Written by `python -m benchmarks.fairness` (`make load` runs it) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

- Machine: {machine()}; load average {load_average:.1f} when the run began (the machine is
  shared).
- The real `voxregen api` and `voxregen worker` processes over PostgreSQL and Redis on
  localhost and moto's S3 server (as `make load`), the stub paced to
  `VOXREGEN_STUB_SECONDS_PER_CHUNK={SECONDS_PER_CHUNK:g}` (each worker's two threads run its
  paced chunks one at a time, as one GPU would, and prepare or deliver beside them). User A creates {BACKLOG_JOBS} jobs
  at once, of {BACKLOG_STEM_S:g} s stems (one chunk each); once the first of them is done (the
  workers busy with the rest), user B creates one job of a {stem_s_for(NEWCOMER_CHUNKS):g} s stem
  ({NEWCOMER_CHUNKS} chunks).
  Times from the job rows and ledgers: created (the API), started (a worker took the job's
  first unit, before preparing it), done (the row's last move).

| worker processes | A's jobs not done when B's was created | B's wait to start (s) | B's wait to done (s) | A's jobs not done when B's was | A's backlog drained, after B's creation (s) |
|---|---|---|---|---|---|
{rows}

The bound (docs/reliability.md, *Fairness between users*): B's job starts once a worker
finishes the turn in hand, within one chunk ({SECONDS_PER_CHUNK:g} s) and the delivery that
may follow it, whatever A's backlog; from then on B gets every other turn while it has work
waiting. B's job is created just after A's first job is seen done, so a worker has often just
ended a turn: the wait to start above is one sample, and its worst case is the bound.
""")


def main() -> None:
    load_average = os.getloadavg()[0]
    runs = {workers: two_users(workers) for workers in WORKERS}
    text = section(runs, load_average=load_average)
    write_section(REPORT, SECTION, text, title="# Benchmarks")
    print(text)


if __name__ == "__main__":
    main()
