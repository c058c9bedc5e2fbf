"""kill -9 to resumed: how long a job whose worker was killed mid-chunk waits before a
surviving worker starts on that chunk, with the default heartbeat settings, over the real
processes (:func:`benchmarks.load_scenarios.run_kill_recovery` on the stack of
:func:`benchmarks.load.running_stack`). Prints one line per run::

    .venv/bin/python -m benchmarks.recovery [--runs N]

The killed worker's chunks take ``KILLED_SECONDS_PER_CHUNK`` each (so that the kill lands
inside one); the survivor's, as long as the stub computes.
"""

import argparse

from benchmarks.load import running_stack
from benchmarks.load_scenarios import RecoveryRun, run_kill_recovery
from tests.e2e.stack import singing_wav, stem_s_for
from voxregen_adapters.settings import DEFAULT_HEARTBEAT_TIMEOUT_S

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
    for number in range(1, runs + 1):
        run = recovery()
        print(
            f"run {number}/{runs}: kill -9 mid-chunk {run.killed_chunk} to resumed on the "
            f"survivor: {run.resumed_s:.1f} s (heartbeat timeout "
            f"{DEFAULT_HEARTBEAT_TIMEOUT_S:g} s); job {run.states[-1]['status']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
