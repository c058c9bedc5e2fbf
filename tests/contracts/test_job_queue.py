"""JobQueue contract, run against every implementation of the port: the in-memory fake and
DramatiqJobQueue over real Redis (its own broker namespace per test). What reached the
consumers is compared as typed messages: the fake's records, and what the worker decodes from
the Dramatiq messages."""

import uuid
from collections.abc import Callable, Iterator

import attrs
import pytest

from tests.fakes import InMemoryJobQueue
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import QUEUE_NAME, DramatiqJobQueue, decode_message
from voxregen_adapters.request_context import bound_request_id
from voxregen_core.errors import InvalidParamsError
from voxregen_core.messages import (
    JobMessage,
    ProfileBuildMessage,
    RenderChunkMessage,
    RenderJobMessage,
    WebhookDeliveryMessage,
)
from voxregen_core.ports import JobQueue

USER = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
JOB = uuid.UUID("10b00000-0000-4000-8000-000000000002")
PROFILE = uuid.UUID("9f0f1e00-0000-4000-8000-000000000003")
Sent = Callable[[], list[JobMessage]]


@pytest.fixture(params=["in_memory", "dramatiq"])
def queue_and_sent(request) -> Iterator[tuple[JobQueue, Sent]]:
    """The queue under test and a function returning what reached its consumers, in order."""
    if request.param == "in_memory":
        fake = InMemoryJobQueue()
        yield fake, lambda: list(fake.messages)
        return
    broker = make_broker(
        request.getfixturevalue("redis_url"), namespace=f"voxregen-test-{uuid.uuid4().hex}"
    )

    def sent() -> list[JobMessage]:
        consumer = broker.consume(QUEUE_NAME, prefetch=100, timeout=100)
        received = []
        for message in consumer:
            if message is None:  # idle for the timeout: the queue is drained
                break
            received.append(decode_message(message.actor_name, message.args, message.kwargs))
            consumer.ack(message)
        consumer.close()
        return received

    yield DramatiqJobQueue(broker), sent
    broker.flush_all()
    broker.client.connection_pool.disconnect()  # RedisBroker.close() is a no-op


def test_satisfies_the_port(queue_and_sent):
    job_queue, _ = queue_and_sent
    assert isinstance(job_queue, JobQueue)


def test_messages_arrive_in_order_decoded_to_what_was_queued(queue_and_sent):
    job_queue, sent = queue_and_sent
    job_queue.enqueue_render_job(user_id=USER, job_id=JOB)
    job_queue.enqueue_profile_build(user_id=USER, profile_id=PROFILE)
    job_queue.enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=0)
    job_queue.enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=2**40)
    webhook = WebhookDeliveryMessage(
        user_id=USER, job_id=JOB, event="completed", webhook_id="msg_" + "0" * 32, attempt=2
    )
    job_queue.enqueue_webhook_delivery(webhook)
    assert sent() == [
        RenderJobMessage(user_id=USER, job_id=JOB),
        ProfileBuildMessage(user_id=USER, profile_id=PROFILE),
        RenderChunkMessage(user_id=USER, job_id=JOB, chunk_index=0),
        RenderChunkMessage(user_id=USER, job_id=JOB, chunk_index=2**40),
        webhook,
    ]


def _send_one_of_each(job_queue: JobQueue, webhook: WebhookDeliveryMessage) -> None:
    job_queue.enqueue_render_job(user_id=USER, job_id=JOB)
    job_queue.enqueue_profile_build(user_id=USER, profile_id=PROFILE)
    job_queue.enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=3)
    job_queue.enqueue_webhook_delivery(webhook)


WEBHOOK = WebhookDeliveryMessage(
    user_id=USER, job_id=JOB, event="progress", webhook_id="msg_" + "1" * 32
)


def test_every_message_sent_while_a_request_id_is_bound_carries_it(queue_and_sent):
    job_queue, sent = queue_and_sent
    with bound_request_id("req-7.a_B"):
        _send_one_of_each(job_queue, WEBHOOK)
    received = sent()
    assert [type(message) for message in received] == [
        RenderJobMessage,
        ProfileBuildMessage,
        RenderChunkMessage,
        WebhookDeliveryMessage,
    ]
    assert [message.request_id for message in received] == ["req-7.a_B"] * 4


def test_a_message_keeps_its_own_request_id_and_none_is_bound_outside(queue_and_sent):
    job_queue, sent = queue_and_sent
    own = attrs.evolve(WEBHOOK, request_id="from-the-first-attempt")
    with bound_request_id("another-request"):
        job_queue.enqueue_webhook_delivery(own)
    _send_one_of_each(job_queue, WEBHOOK)
    assert [message.request_id for message in sent()] == [
        "from-the-first-attempt",
        None,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("enqueue", "fields", "match"),
    [
        (
            "enqueue_render_job",
            {"user_id": str(USER), "job_id": JOB},
            r"RenderJobMessage.user_id must be a uuid.UUID, got str 'a11ce000-",
        ),
        (
            "enqueue_profile_build",
            {"user_id": USER, "profile_id": None},
            "ProfileBuildMessage.profile_id must be a uuid.UUID, got NoneType None",
        ),
        (
            "enqueue_render_chunk",
            {"user_id": USER, "job_id": JOB, "chunk_index": -1},
            "RenderChunkMessage.chunk_index must be an integer >= 0, got int -1",
        ),
        (
            "enqueue_render_chunk",
            {"user_id": USER, "job_id": JOB, "chunk_index": True},
            "RenderChunkMessage.chunk_index must be an integer >= 0, got bool True",
        ),
        (
            "enqueue_render_chunk",
            {"user_id": USER, "job_id": JOB, "chunk_index": 1.0},
            "RenderChunkMessage.chunk_index must be an integer >= 0, got float 1.0",
        ),
    ],
    ids=[
        "render_job_str_id",
        "profile_build_none_id",
        "negative_chunk",
        "bool_chunk",
        "float_chunk",
    ],
)
def test_a_field_of_the_wrong_type_is_refused_and_nothing_is_sent(
    queue_and_sent, enqueue, fields, match
):
    job_queue, sent = queue_and_sent
    with pytest.raises(InvalidParamsError, match=match):
        getattr(job_queue, enqueue)(**fields)
    assert sent() == []
