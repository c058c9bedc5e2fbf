"""The supervisor of `voxregen serve`'s children, over real processes: a child that dies is
restarted with a growing backoff; stopping terminates every child and whatever it spawned,
killing those that ignore SIGTERM once the grace period is over."""

import sys
import threading
import time
from pathlib import Path

from tests.integration.processes import is_gone, still_running
from voxregen.supervisor import ChildSpec, Supervisor


def _python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def _run_until(supervisor: Supervisor, condition, *, timeout_s: float = 10.0) -> float:
    """Run ``supervisor`` in a thread until ``condition()`` holds, stop it, and return how
    long stopping took (seconds)."""
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,))
    thread.start()
    deadline_s = time.monotonic() + timeout_s
    try:
        while not condition() and time.monotonic() < deadline_s:
            time.sleep(0.02)
    finally:
        stopping_s = time.monotonic()
        stop.set()
        thread.join(timeout=timeout_s)
    assert not thread.is_alive()
    assert condition()
    return time.monotonic() - stopping_s


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_a_child_that_dies_is_restarted_with_a_growing_backoff(tmp_path):
    starts = tmp_path / "starts"
    crasher = _python(
        f"import sys, time; open({str(starts)!r}, 'a').write(f'{{time.monotonic()}}\\n');"
        "sys.exit(3)"
    )
    supervisor = Supervisor([ChildSpec("crasher", crasher)], min_backoff_s=0.1, max_backoff_s=5.0)
    _run_until(supervisor, lambda: len(_lines(starts)) >= 4)

    times_s = [float(line) for line in _lines(starts)]
    gaps_s = [later - earlier for earlier, later in zip(times_s, times_s[1:], strict=False)]
    assert gaps_s[0] >= 0.1
    assert gaps_s[2] >= 0.4  # 0.1, 0.2, 0.4: doubling with every quick failure
    assert gaps_s[2] > gaps_s[0]


def test_stopping_terminates_children_and_what_they_spawned(tmp_path):
    pids, terminated = tmp_path / "pids", tmp_path / "terminated"
    polite = _python(
        "import os, signal, subprocess, sys, time\n"
        f"def bye(*_): open({str(terminated)!r}, 'w').write('yes'); sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "grandchild = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pids)!r}, 'a').write(f'{{os.getpid()}} {{grandchild.pid}}\\n')\n"
        "time.sleep(60)\n"
    )
    _run_until(Supervisor([ChildSpec("polite", polite)]), lambda: len(_lines(pids)) == 2)

    assert terminated.read_text() == "yes"
    assert still_running([int(pid) for pid in _lines(pids)], timeout_s=5) == []


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    pid_file = tmp_path / "pid"
    stubborn = _python(
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    supervisor = Supervisor([ChildSpec("stubborn", stubborn)], stop_timeout_s=0.5)
    stopping_s = _run_until(supervisor, lambda: bool(_lines(pid_file)))

    assert 0.5 <= stopping_s < 5.0
    assert is_gone(int(pid_file.read_text()))
