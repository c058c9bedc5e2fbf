"""The core's parallel helpers: results in order and independent of the threads."""

import gc
import threading
import time
import weakref

import pytest

from voxregen_core.parallelism import in_background, map_on_cores, started


def test_map_on_cores_keeps_the_order_of_its_items() -> None:
    assert map_on_cores(lambda k: k * k, range(50)) == [k * k for k in range(50)]


def test_in_background_yields_every_item_in_order_from_another_thread() -> None:
    producers: set[str] = set()

    def items():
        for k in range(100):
            producers.add(threading.current_thread().name)
            yield k

    assert list(in_background(items(), ahead=3)) == list(range(100))
    assert producers == {"in_background"}


def test_in_background_raises_the_producers_error_after_the_items_before_it() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("cut short")

    seen = []
    with pytest.raises(ValueError, match="cut short"):
        for item in in_background(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_closing_in_background_early_stops_the_producer() -> None:
    produced = []

    def items():
        for k in range(10_000):
            produced.append(k)
            yield k

    stream = in_background(items(), ahead=2)
    assert next(stream) == 0
    stream.close()
    time.sleep(0.5)  # the producer notices within 0.1 s of a full queue
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count < 10


def test_started_runs_at_once_on_another_thread_and_returns_its_result() -> None:
    ran = threading.Event()
    caller = threading.current_thread().name

    def work() -> str:
        ran.set()
        return threading.current_thread().name

    result = started(work)
    assert ran.wait(timeout=10)  # before anyone asks for the result
    assert result() not in {caller, ""}


def test_started_raises_the_functions_error_in_the_caller() -> None:
    def work() -> None:
        raise ValueError("not a WAV")

    result = started(work)
    with pytest.raises(ValueError, match="not a WAV"):
        result()


def test_started_keeps_no_reference_to_the_result_once_taken() -> None:
    class Stem:
        pass

    result = started(Stem)
    taken = weakref.ref(result())
    gc.collect()
    assert taken() is None
