"""Supervised child processes: start them, restart one that dies, stop them all on request.

``voxregen serve`` runs the API and a worker this way. Each child leads its own process group,
so a Ctrl-C in the terminal reaches only the supervisor, which then stops the children in order
(SIGTERM to the group, a grace period, then SIGKILL), and nothing a child spawned is left
behind; on Linux a child also gets SIGTERM if the supervisor itself dies (``PR_SET_PDEATHSIG``).
A child that exits while the supervisor is running is logged and restarted after a backoff that
doubles with every quick failure (from ``min_backoff_s`` to ``max_backoff_s``) and starts over
once a child has stayed up for ``stable_after_s``.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence

import attrs
import structlog

POLL_INTERVAL_S = 0.1
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_log = structlog.get_logger("voxregen.supervisor")


@attrs.frozen
class ChildSpec:
    """How to run one child: a name for the logs, its argv and its whole environment
    (``None``: the supervisor's own)."""

    name: str
    argv: tuple[str, ...] = attrs.field(converter=tuple)
    env: Mapping[str, str] | None = None


@attrs.define
class _Child:
    spec: ChildSpec
    process: subprocess.Popen | None = None
    started_at_s: float = 0.0
    quick_failures: int = 0
    restart_at_s: float = 0.0


@attrs.frozen
class Supervisor:
    """Runs ``children`` until ``stop`` is set (see the module docstring)."""

    children: Sequence[ChildSpec] = attrs.field(converter=tuple)
    min_backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    stable_after_s: float = 10.0
    stop_timeout_s: float = 10.0

    def run(self, stop: threading.Event) -> None:
        """Start every child, keep them running until ``stop`` is set, then stop them all."""
        children = [_Child(spec) for spec in self.children]
        try:
            while not stop.is_set():
                now_s = time.monotonic()
                for child in children:
                    self._tend(child, now_s)
                stop.wait(POLL_INTERVAL_S)
        finally:
            self._stop_all([child for child in children if child.process is not None])

    def _tend(self, child: _Child, now_s: float) -> None:
        if child.process is None:
            if now_s >= child.restart_at_s:
                child.process = subprocess.Popen(
                    child.spec.argv,
                    env=None if child.spec.env is None else dict(child.spec.env),
                    stdin=subprocess.DEVNULL,
                    process_group=0,  # its own group: the terminal's Ctrl-C is ours to forward
                    preexec_fn=_terminate_with_parent,
                )
                child.started_at_s = now_s
                _log.info("child_started", child=child.spec.name, pid=child.process.pid)
            return
        returncode = child.process.poll()
        if returncode is None:
            return
        _kill_group(child.process.pid, signal.SIGKILL)  # whatever the dead child left running
        up_s = now_s - child.started_at_s
        if up_s >= self.stable_after_s:
            child.quick_failures = 0
        backoff_s = min(self.max_backoff_s, self.min_backoff_s * 2**child.quick_failures)
        child.quick_failures += 1
        _log.warning(
            "child_exited",
            child=child.spec.name,
            pid=child.process.pid,
            returncode=returncode,
            elapsed_ms=round(up_s * 1000),
            restart_in_ms=round(backoff_s * 1000),
        )
        child.process = None
        child.restart_at_s = now_s + backoff_s

    def _stop_all(self, children: list[_Child]) -> None:
        started_s = time.monotonic()
        for child in children:
            _kill_group(child.process.pid, signal.SIGTERM)
        deadline_s = started_s + self.stop_timeout_s
        for child in children:
            try:
                child.process.wait(timeout=max(0.0, deadline_s - time.monotonic()))
                how = "terminated"
            except subprocess.TimeoutExpired:
                _kill_group(child.process.pid, signal.SIGKILL)
                child.process.wait()
                how = "killed"
            _kill_group(child.process.pid, signal.SIGKILL)  # anything it spawned and left
            _log.info(
                "child_stopped",
                child=child.spec.name,
                pid=child.process.pid,
                how=how,
                returncode=child.process.returncode,
                elapsed_ms=round((time.monotonic() - started_s) * 1000),
            )


def _terminate_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the supervisor dies, even by
    SIGKILL, so no child outlives it holding its port (elsewhere, a no-op)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _kill_group(process_group: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(process_group, signal_number)
