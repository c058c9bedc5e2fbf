"""Child processes in tests: their environment, and waiting for them to be gone (for the tests
that prove nothing is left running)."""

import os
import time

import psutil


def is_gone(pid: int) -> bool:
    """No such process, or a zombie: it has exited and only waits for its parent to reap it."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def still_running(pids: list[int], *, timeout_s: float) -> list[int]:
    """Those of ``pids`` still running after up to ``timeout_s`` (an empty list once all are
    gone)."""
    deadline_s = time.monotonic() + timeout_s
    while (running := [pid for pid in pids if not is_gone(pid)]) and time.monotonic() < deadline_s:
        time.sleep(0.05)
    return running


def environment_without_voxregen_settings() -> dict[str, str]:
    """This process's environment without any ``VOXREGEN_*`` variable, for a child that must
    get only the settings a test gives it."""
    return {name: value for name, value in os.environ.items() if not name.startswith("VOXREGEN_")}
