"""How the core's parallel loops run: one thread per core this process may run on.

The loops are over independent segments of NumPy, SciPy, soxr and pocketfft work, which release
the GIL, so threads share the cores without copying the audio to other processes. Segments are
cut by the length of the work alone, never by the core count, so the result does not depend on
how many cores there are.
"""

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity: ``taskset``, a container's cpuset),
    not the machine's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_on_cores(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[function(item) for item in items]``, on up to :func:`usable_cores` threads."""
    items = list(items)
    if len(items) <= 1 or usable_cores() == 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), usable_cores())) as pool:
        return list(pool.map(function, items))
