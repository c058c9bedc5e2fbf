"""DramatiqJobQueue over real Redis: a real dramatiq Worker runs a real actor on what was sent,
in the wire format the adapter documents; and its decoder refuses what it would never send.

Each test uses its own broker namespace, so tests run in any order and leave no shared keys.
"""

import queue
import time
import uuid

import dramatiq
import pytest

from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import (
    ACTOR_NAMES,
    RENDER_CHUNK,
    WEBHOOK,
    DramatiqJobQueue,
    decode_message,
)
from voxregen_adapters.request_context import bound_request_id
from voxregen_core.errors import InvalidParamsError, QueueUnavailableError
from voxregen_core.messages import (
    ProfileBuildMessage,
    RenderChunkMessage,
    RenderJobMessage,
    WebhookDeliveryMessage,
)

UNREACHABLE_REDIS_URL = "unix:///nonexistent/voxregen-test/redis.sock"
USER = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
JOB = uuid.UUID("10b00000-0000-4000-8000-000000000002")


def test_a_real_worker_runs_the_actor_with_the_documented_arguments(broker):
    received: queue.Queue[tuple] = queue.Queue()

    @dramatiq.actor(broker=broker, actor_name=RENDER_CHUNK, max_retries=0)
    def render_chunk(*args):
        received.put(args)

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        DramatiqJobQueue(broker).enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=3)
        args = received.get(timeout=10)
    finally:
        worker.stop()
    assert args == (str(USER), str(JOB), 3)  # the wire format: ids as strings, in field order
    assert decode_message(RENDER_CHUNK, args) == RenderChunkMessage(
        user_id=USER, job_id=JOB, chunk_index=3
    )


def test_the_request_id_in_hand_reaches_the_actor_as_its_one_keyword_argument(broker):
    received: queue.Queue[tuple[tuple, dict]] = queue.Queue()

    @dramatiq.actor(broker=broker, actor_name=RENDER_CHUNK, max_retries=0)
    def render_chunk(*args, **kwargs):
        received.put((args, kwargs))

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        with bound_request_id("4bf92f3577b34da6"):
            DramatiqJobQueue(broker).enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=3)
        args, kwargs = received.get(timeout=10)
    finally:
        worker.stop()
    assert (args, kwargs) == ((str(USER), str(JOB), 3), {"request_id": "4bf92f3577b34da6"})
    assert decode_message(RENDER_CHUNK, args, kwargs) == RenderChunkMessage(
        user_id=USER, job_id=JOB, chunk_index=3, request_id="4bf92f3577b34da6"
    )


def test_a_delayed_webhook_delivery_reaches_the_worker_after_its_delay(broker):
    received: queue.Queue[tuple[float, tuple]] = queue.Queue()

    @dramatiq.actor(broker=broker, actor_name=WEBHOOK, max_retries=0)
    def webhook(*args):
        received.put((time.monotonic(), args))

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        message = WebhookDeliveryMessage(
            user_id=USER, job_id=JOB, event="progress", webhook_id="msg_" + "a" * 32, attempt=3
        )
        sent_at = time.monotonic()
        DramatiqJobQueue(broker).enqueue_webhook_delivery(message, delay_s=1.0)
        arrived_at, args = received.get(timeout=15)
    finally:
        worker.stop()
    assert arrived_at - sent_at >= 1.0
    assert decode_message(WEBHOOK, args) == message


def test_the_actor_names_are_the_workers_four():
    assert ACTOR_NAMES == ("profile_build", "render_job", "render_chunk", "webhook")
    assert decode_message("profile_build", (str(USER), str(JOB))) == ProfileBuildMessage(
        user_id=USER, profile_id=JOB
    )
    assert decode_message("render_job", (str(USER), str(JOB))) == RenderJobMessage(
        user_id=USER, job_id=JOB
    )


def test_an_unreachable_redis_raises_queue_unavailable():
    job_queue = DramatiqJobQueue(make_broker(UNREACHABLE_REDIS_URL))
    with pytest.raises(QueueUnavailableError, match="cannot queue render_job: .* unreachable"):
        job_queue.enqueue_render_job(user_id=USER, job_id=JOB)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"user_id": str(USER), "job_id": JOB, "chunk_index": 0}, "user_id must be a uuid.UUID"),
        ({"user_id": USER, "job_id": JOB, "chunk_index": "0"}, "chunk_index must be an integer"),
    ],
)
def test_bad_messages_are_refused_before_redis_is_touched(fields, match):
    job_queue = DramatiqJobQueue(make_broker(UNREACHABLE_REDIS_URL))
    with pytest.raises(InvalidParamsError, match=match):
        job_queue.enqueue_render_chunk(**fields)


@pytest.mark.parametrize(
    ("actor_name", "args", "match"),
    [
        ("render", (str(USER), str(JOB)), "unknown actor 'render'; known: profile_build, render_c"),
        ("render_job", (str(USER),), r"render_job takes 2 arguments \(user_id, job_id\), got 1"),
        ("render_job", (str(USER), "job-1"), "render_job argument job_id must be a UUID string"),
        ("render_job", (str(USER), 7), "render_job argument job_id must be a UUID string, got 7"),
        (
            "render_chunk",
            (str(USER), str(JOB), "3"),
            "RenderChunkMessage.chunk_index must be an integer >= 0, got str '3'",
        ),
    ],
)
def test_the_decoder_refuses_what_the_queue_never_sends(actor_name, args, match):
    with pytest.raises(InvalidParamsError, match=match):
        decode_message(actor_name, args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"user_id": str(USER)},
            r"render_job takes only the keyword argument request_id, got \['u",
        ),
        ({"request_id": ""}, "RenderJobMessage.request_id must be None or 1 to 128 characters"),
        ({"request_id": "a b"}, r"of \[A-Za-z0-9._-\], got 'a b'"),
        ({"request_id": 7}, "RenderJobMessage.request_id must be None or 1 to 128 char"),
    ],
)
def test_the_decoder_refuses_keywords_the_queue_never_sends(kwargs, match):
    with pytest.raises(InvalidParamsError, match=match):
        decode_message("render_job", (str(USER), str(JOB)), kwargs)
