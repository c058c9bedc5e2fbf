"""How the core's parallel loops run: one thread per core this process may run on.

The loops are over independent segments of NumPy, SciPy, soxr and pocketfft work, which release
the GIL, so threads share the cores without copying the audio to other processes. Segments are
cut by the length of the work alone, never by the core count, so the result does not depend on
how many cores there are.
"""

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
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


def started(function: Callable[[], R]) -> Callable[[], R]:
    """Start ``function()`` on another thread now; the returned callable waits for its result
    and returns it, or raises what it raised. Called once: nothing here keeps the result
    alive after that (a decoded stem is 92 MB). The thread is a daemon, so a process that
    stops early (Ctrl-C, a refusal) does not wait for it."""
    handoff: queue.SimpleQueue[tuple[R | None, BaseException | None]] = queue.SimpleQueue()

    def run() -> None:
        try:
            handoff.put((function(), None))
        except BaseException as error:  # raised in the caller's thread
            handoff.put((None, error))

    threading.Thread(target=run, name="started", daemon=True).start()

    def result() -> R:
        value, error = handoff.get()
        if error is not None:
            raise error
        return value

    return result


def in_background(items: Iterator[T], *, ahead: int = 4) -> Iterator[T]:
    """The items of ``items``, produced on another thread up to ``ahead`` items ahead of the
    caller's use of them: two stages of a stream (reading and converting a stem, say) run on two
    cores. An exception ``items`` raises is raised here, in order; closing this iterator early
    stops the producer at its next item.
    """
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=ahead)
    stopped = threading.Event()

    def offer(entry: tuple[str, object]) -> bool:
        """Queue ``entry`` unless the consumer has stopped first; False if it has."""
        while not stopped.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(("item", item)):
                    return
            offer(("end", None))
        except BaseException as error:  # raised in the consumer's thread
            offer(("error", error))

    threading.Thread(target=produce, name="in_background", daemon=True).start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "error":
                raise value
            if kind == "end":
                return
            yield value
    finally:
        stopped.set()
