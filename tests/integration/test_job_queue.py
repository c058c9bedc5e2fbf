"""DramatiqJobQueue over real Redis: a real dramatiq Worker runs a real actor on what was sent,
in the wire format the adapter documents, render work as a turn that claims it from the
backlog; a spare turn is queued only while work waits; and its decoder refuses what it would
never send.

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
    PROFILE_BUILD,
    QUEUE_NAMES,
    RENDER_TURN,
    WEBHOOK,
    DramatiqJobQueue,
    RenderTurn,
    decode_message,
    render_backlog,
)
from voxregen_adapters.request_context import bound_request_id
from voxregen_core.errors import InvalidParamsError, QueueUnavailableError
from voxregen_core.messages import (
    ProfileBuildMessage,
    RenderChunkMessage,
    WebhookDeliveryMessage,
)

UNREACHABLE_REDIS_URL = "unix:///nonexistent/voxregen-test/redis.sock"
USER = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
JOB = uuid.UUID("10b00000-0000-4000-8000-000000000002")


def test_a_real_worker_runs_a_render_turn_that_claims_the_chunk_queued(broker):
    received: queue.Queue[tuple] = queue.Queue()
    backlog = render_backlog(broker)

    @dramatiq.actor(
        broker=broker, actor_name=RENDER_TURN, queue_name=QUEUE_NAMES[RENDER_TURN], max_retries=0
    )
    def render_turn(*args):
        received.put((args, backlog.claim(decode_message(RENDER_TURN, args).turn_id)))

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        DramatiqJobQueue(broker).enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=3)
        args, claimed = received.get(timeout=10)
    finally:
        worker.stop()
    (turn_id,) = args  # the wire format: the turn id as a string
    assert decode_message(RENDER_TURN, args) == RenderTurn(turn_id=uuid.UUID(turn_id))
    assert claimed == RenderChunkMessage(user_id=USER, job_id=JOB, chunk_index=3)
    assert backlog.waiting() == []


def test_a_spare_turn_is_queued_only_while_render_work_waits(broker):
    job_queue = DramatiqJobQueue(broker)
    turns = f"{broker.namespace}:{QUEUE_NAMES[RENDER_TURN]}"
    assert job_queue.enqueue_spare_render_turn() == 0
    assert broker.client.llen(turns) == 0
    job_queue.enqueue_render_job(user_id=USER, job_id=JOB)
    job_queue.enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=0)
    assert broker.client.llen(turns) == 2  # one turn per unit
    assert job_queue.enqueue_spare_render_turn() == 2
    assert broker.client.llen(turns) == 3


def test_the_request_id_in_hand_reaches_the_actor_as_its_one_keyword_argument(broker):
    received: queue.Queue[tuple[tuple, dict]] = queue.Queue()

    @dramatiq.actor(broker=broker, actor_name=PROFILE_BUILD, max_retries=0)
    def profile_build(*args, **kwargs):
        received.put((args, kwargs))

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        with bound_request_id("4bf92f3577b34da6"):
            DramatiqJobQueue(broker).enqueue_profile_build(user_id=USER, profile_id=JOB)
        args, kwargs = received.get(timeout=10)
    finally:
        worker.stop()
    assert (args, kwargs) == ((str(USER), str(JOB)), {"request_id": "4bf92f3577b34da6"})
    assert decode_message(PROFILE_BUILD, args, kwargs) == ProfileBuildMessage(
        user_id=USER, profile_id=JOB, request_id="4bf92f3577b34da6"
    )


def test_render_work_carries_the_request_id_in_hand_through_the_backlog(broker):
    with bound_request_id("4bf92f3577b34da6"):
        DramatiqJobQueue(broker).enqueue_render_chunk(user_id=USER, job_id=JOB, chunk_index=3)
    assert render_backlog(broker).waiting() == [
        RenderChunkMessage(user_id=USER, job_id=JOB, chunk_index=3, request_id="4bf92f3577b34da6")
    ]


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


def test_the_actor_names_are_the_workers_three_render_turns_on_a_queue_of_their_own():
    assert ACTOR_NAMES == ("profile_build", "render_turn", "webhook")
    assert QUEUE_NAMES == {
        "profile_build": "default",
        "render_turn": "render",
        "webhook": "default",
    }
    assert decode_message("profile_build", (str(USER), str(JOB))) == ProfileBuildMessage(
        user_id=USER, profile_id=JOB
    )
    assert decode_message("render_turn", (str(JOB),)) == RenderTurn(turn_id=JOB)


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
        ("render_job", (str(USER), str(JOB)), "unknown actor 'render_job'; known: profile_bui"),
        ("render_turn", (), r"render_turn takes 1 arguments \(turn_id\), got 0"),
        ("render_turn", ("turn-1",), "render_turn argument turn_id must be a UUID string"),
        ("profile_build", (str(USER), 7), "profile_build argument profile_id must be a UUID str"),
        (
            "webhook",
            (str(USER), str(JOB), "started", "msg_" + "0" * 32, "1"),
            "WebhookDeliveryMessage.attempt must be an integer >= 0, got str '1'",
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
            r"profile_build takes the keyword arguments \['request_id'\], got \['u",
        ),
        ({"request_id": ""}, "ProfileBuildMessage.request_id must be None or 1 to 128 characters"),
        ({"request_id": "a b"}, r"of \[A-Za-z0-9._-\], got 'a b'"),
        ({"request_id": 7}, "ProfileBuildMessage.request_id must be None or 1 to 128 char"),
    ],
)
def test_the_decoder_refuses_keywords_the_queue_never_sends(kwargs, match):
    with pytest.raises(InvalidParamsError, match=match):
        decode_message("profile_build", (str(USER), str(JOB)), kwargs)


def test_a_render_turn_takes_no_request_id_its_unit_carries_its_own():
    with pytest.raises(InvalidParamsError, match=r"render_turn takes the keyword arguments \[\]"):
        decode_message("render_turn", (str(JOB),), {"request_id": "create-1"})
