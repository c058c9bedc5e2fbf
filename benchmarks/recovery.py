"""kill -9 to resumed: how long a job whose worker was killed mid-chunk waits before a
surviving worker starts on that chunk, with the default heartbeat settings, over the real
processes (:func:`benchmarks.load_scenarios.run_kill_recovery` on the stack of
:func:`benchmarks.load.running_stack`). Prints one line per run::

    .venv/bin/python -m benchmarks.recovery [--runs N]

The killed worker's chunks take ``KILLED_SECONDS_PER_CHUNK`` each (so that the kill lands
inside one); the survivor's, as long as the stub computes. The runs also go into the
"Recovery after kill -9" section of docs/benchmarks.md (``make bench`` runs three).
"""

import argparse
import statistics
from datetime import UTC, datetime

from benchmarks.bench_render import REPORT
from benchmarks.load import running_stack
from benchmarks.load_scenarios import RecoveryRun, run_kill_recovery
from benchmarks.report import machine, write_section
from tests.e2e.stack import singing_wav, stem_s_for
from voxregen_adapters.settings import DEFAULT_HEARTBEAT_TIMEOUT_S

SECTION = "## Recovery after kill -9"
TARGET_S = 15.0

CHUNKS = 2
KILLED_SECONDS_PER_CHUNK = 6.0
TIMEOUT_S = 120.0


def recovery() -> RecoveryRun:
    """One kill on a fresh stack: the API, then the two workers the scenario starts."""
    with running_stack(0, {}) as stack:
        return run_kill_recovery(
            stack,
            stack.user(),
            singing_wav(stem_s_for(CHUNKS), seed=5),
            killed_env={"VOXREGEN_STUB_SECONDS_PER_CHUNK": str(KILLED_SECONDS_PER_CHUNK)},
            survivor_env={},
            timeout_s=TIMEOUT_S,
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recovery")
    parser.add_argument("--runs", type=int, default=1, help="kills to time, one stack each")
    runs = parser.parse_args().runs
    resumed_s = []
    for number in range(1, runs + 1):
        run = recovery()
        resumed_s.append(run.resumed_s)
        print(
            f"run {number}/{runs}: kill -9 mid-chunk {run.killed_chunk} to resumed on the "
            f"survivor: {run.resumed_s:.1f} s (heartbeat timeout "
            f"{DEFAULT_HEARTBEAT_TIMEOUT_S:g} s); job {run.states[-1]['status']}",
            flush=True,
        )
    worst_s = max(resumed_s)
    write_section(
        REPORT,
        SECTION,
        f"""{SECTION}

Written by `python -m benchmarks.recovery --runs {runs}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

- Machine: {machine()}
- A 2-chunk job on a worker whose chunks take {KILLED_SECONDS_PER_CHUNK:g} s, a second worker
  idle; the first is killed (`kill -9`) mid-chunk. Measured: from the kill to the survivor
  starting that chunk, with the default settings (heartbeat timeout
  {DEFAULT_HEARTBEAT_TIMEOUT_S:g} s, broker maintenance on every command).

| runs | median (s) | worst (s) | target |
|---|---|---|---|
| {runs} | {statistics.median(resumed_s):.1f} | {worst_s:.1f} | ≤ {TARGET_S:g} s: {"met" if worst_s <= TARGET_S else "**not met**"} |
""",
        title="# Benchmarks",
    )


if __name__ == "__main__":
    main()
