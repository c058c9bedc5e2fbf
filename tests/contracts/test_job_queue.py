"""JobQueue contract, run against every implementation of the port: the in-memory fake and
DramatiqJobQueue over real Redis (its own broker namespace per test). What reached the
consumers is compared as typed messages: profile builds and webhook deliveries in the order
queued (the fake's records; what the worker decodes from the Dramatiq messages), and render
work in the order of the fair share (the fake's render records through the core's model; what
the Dramatiq render turns claim from the backlog, one turn per unit)."""

import uuid
from collections.abc import Callable, Iterator

import attrs
import pytest

from tests.fakes import InMemoryJobQueue
from tests.redis_namespace import delete_namespace
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import (
    QUEUE_NAMES,
    DramatiqJobQueue,
    RenderTurn,
    decode_message,
    render_backlog,
)
from voxregen_adapters.request_context import bound_request_id
from voxregen_core.errors import InvalidParamsError
from voxregen_core.fair_share import FairShare
from voxregen_core.messages import (
    JobMessage,
    ProfileBuildMessage,
    RenderChunkMessage,
    RenderJobMessage,
    WebhookDeliveryMessage,
)
from voxregen_core.ports import JobQueue

USER = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
OTHER = uuid.UUID("b0b00000-0000-4000-8000-000000000004")
JOB = uuid.UUID("10b00000-0000-4000-8000-000000000002")
PROFILE = uuid.UUID("9f0f1e00-0000-4000-8000-000000000003")
Sent = Callable[[], list[JobMessage]]


@pytest.fixture(params=["in_memory", "dramatiq"])
def queue_and_sent(request) -> Iterator[tuple[JobQueue, Sent]]:
    """The queue under test and a function returning what reached its consumers: the direct
    messages in order, then the render work in the order the workers take it."""
    if request.param == "in_memory":
        fake = InMemoryJobQueue()
        yield fake, lambda: _in_memory_sent(fake)
        return
    broker = make_broker(
        request.getfixturevalue("redis_url"), namespace=f"voxregen-test-{uuid.uuid4().hex}"
    )
    backlog = render_backlog(broker)

    def sent() -> list[JobMessage]:
        direct, render = [], []
        for queue_name in sorted(set(QUEUE_NAMES.values())):
            consumer = broker.consume(queue_name, prefetch=100, timeout=100)
            for message in consumer:
                if message is None:  # idle for the timeout: the queue is drained
                    break
                decoded = decode_message(message.actor_name, message.args, message.kwargs)
                if isinstance(decoded, RenderTurn):
                    render.append(backlog.claim(decoded.turn_id))
                    backlog.release(decoded.turn_id)
                else:
                    direct.append(decoded)
                consumer.ack(message)
            consumer.close()
        return direct + render

    yield DramatiqJobQueue(broker), sent
    delete_namespace(broker.client, broker.namespace)
    broker.client.connection_pool.disconnect()  # RedisBroker.close() is a no-op


def _in_memory_sent(fake: InMemoryJobQueue) -> list[JobMessage]:
    share = FairShare()
    direct = []
    for message in fake.messages:
        if isinstance(message, RenderJobMessage | RenderChunkMessage):
            share.push(message)
        else:
            direct.append(message)
    render = []
    while (work := share.take()) is not None:
        render.append(work)
    return direct + render


def test_satisfies_the_port(queue_and_sent):
    job_queue, _ = queue_and_sent
    assert isinstance(job_queue, JobQueue)


def test_messages_arrive_decoded_to_what_was_queued_render_work_in_fair_order(queue_and_sent):
    job_queue, sent = queue_and_sent
    other_job = uuid.uuid4()
    job_queue.enqueue_render_job(user_id=USER, job_id=JOB)
    job_queue.enqueue_profile_build(user_id=USER, profile_id=PROFILE)
    job_queue.enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=0)
    job_queue.enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=2**40)
    job_queue.enqueue_render_job(user_id=OTHER, job_id=other_job)
    webhook = WebhookDeliveryMessage(
        user_id=USER, job_id=JOB, event="completed", webhook_id="msg_" + "0" * 32, attempt=2
    )
    job_queue.enqueue_webhook_delivery(webhook)
    assert sent() == [
        ProfileBuildMessage(user_id=USER, profile_id=PROFILE),
        webhook,
        # the user's chunks before its start; the other user's start at the second turn
        RenderChunkMessage(user_id=USER, job_id=JOB, chunk_index=0),
        RenderJobMessage(user_id=OTHER, job_id=other_job),
        RenderChunkMessage(user_id=USER, job_id=JOB, chunk_index=2**40),
        RenderJobMessage(user_id=USER, job_id=JOB),
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
    received = sent()  # the direct messages, then the render work (through its turns)
    assert sorted(type(message).__name__ for message in received) == [
        "ProfileBuildMessage",
        "RenderChunkMessage",
        "RenderJobMessage",
        "WebhookDeliveryMessage",
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
