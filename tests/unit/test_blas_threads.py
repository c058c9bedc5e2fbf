"""The CLI asks OpenBLAS for one thread, and a user's own setting wins."""

import os
import subprocess
import sys

import pytest

from voxregen_adapters.blas_threads import one_blas_thread


def test_one_thread_unless_the_environment_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    one_blas_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


def test_numpy_then_starts_no_blas_threads() -> None:
    """OpenBLAS starts its threads when NumPy loads it: after the call, a process that imports
    NumPy has its main thread alone (with two cores or more it would have one per core)."""
    code = (
        "from voxregen_adapters.blas_threads import one_blas_thread\n"
        "one_blas_thread()\n"
        "import os, numpy\n"
        "print(len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    threads = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert int(threads) == 1
