"""JobQueue contract, run against every implementation of the port: the in-memory fake and
DramatiqJobQueue over real Redis (its own broker namespace per test)."""

import enum
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.fakes import InMemoryJobQueue
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import QUEUE_NAME, DramatiqJobQueue
from voxregen_core.errors import InvalidParamsError
from voxregen_core.ports import JobQueue

ACTORS = {"render_job", "build_profile"}
Sent = Callable[[], list[tuple[str, tuple]]]


class Style(enum.StrEnum):
    WARM = "warm"


@pytest.fixture(params=["in_memory", "dramatiq"])
def queue_and_sent(request) -> Iterator[tuple[JobQueue, Sent]]:
    """The queue under test and a function returning what reached its consumers, in order."""
    if request.param == "in_memory":
        fake = InMemoryJobQueue(actor_names=ACTORS)
        yield fake, lambda: list(fake.messages)
        return
    broker = make_broker(
        request.getfixturevalue("redis_url"), namespace=f"voxregen-test-{uuid.uuid4().hex}"
    )

    def sent() -> list[tuple[str, tuple]]:
        consumer = broker.consume(QUEUE_NAME, prefetch=100, timeout=100)
        received = []
        for message in consumer:
            if message is None:  # idle for the timeout: the queue is drained
                break
            received.append((message.actor_name, tuple(message.args)))
            consumer.ack(message)
        consumer.close()
        return received

    yield DramatiqJobQueue(broker, actor_names=ACTORS), sent
    broker.flush_all()
    broker.client.connection_pool.disconnect()  # RedisBroker.close() is a no-op


def test_satisfies_the_port(queue_and_sent):
    job_queue, _ = queue_and_sent
    assert isinstance(job_queue, JobQueue)


def test_messages_arrive_in_order_with_their_arguments_intact(queue_and_sent):
    job_queue, sent = queue_and_sent
    job_queue.enqueue("render_job", "4f1c…-job", "users/u/jobs/j/input.wav", 7, 0.5, True, None)
    job_queue.enqueue("build_profile", "profile-id")
    job_queue.enqueue("render_job")
    assert sent() == [
        ("render_job", ("4f1c…-job", "users/u/jobs/j/input.wav", 7, 0.5, True, None)),
        ("build_profile", ("profile-id",)),
        ("render_job", ()),
    ]


def test_an_unknown_actor_is_refused_and_nothing_is_sent(queue_and_sent):
    job_queue, sent = queue_and_sent
    with pytest.raises(InvalidParamsError, match="unknown actor 'render'"):
        job_queue.enqueue("render", "id")
    assert sent() == []


@pytest.mark.parametrize(
    "bad",
    [uuid.UUID(int=1), b"RIFF", ["a"], {"a": 1}, (1,), Style.WARM, float("nan"), float("inf")],
    ids=repr,
)
def test_a_non_primitive_argument_is_refused_and_nothing_is_sent(queue_and_sent, bad):
    job_queue, sent = queue_and_sent
    with pytest.raises(
        InvalidParamsError, match="render_job argument 1 must be a finite JSON primitive"
    ):
        job_queue.enqueue("render_job", "id", bad)
    assert sent() == []
