"""How many threads the core's parallel loops use: the cores this process may run on."""

import os


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity: ``taskset``, a container's cpuset),
    not the machine's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
