"""The core's parallel helpers: results in order and independent of the threads."""

import threading
import time

import pytest

from voxregen_core.parallelism import in_background, map_on_cores


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
