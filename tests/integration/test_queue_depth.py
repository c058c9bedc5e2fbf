"""The job queue's depth read from a real Redis broker (its own namespace) as messages are
queued, fetched, delayed, acknowledged and given up on, by Dramatiq's own consumer."""

import uuid

import pytest

from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import QUEUE_NAME, DramatiqJobQueue
from voxregen_adapters.queue_depth import QueueDepth, queue_depth
from voxregen_core.errors import QueueUnavailableError
from voxregen_core.messages import WebhookDeliveryMessage

USER = uuid.UUID("a11ce000-0000-4000-8000-000000000001")


def test_the_depth_follows_each_message_through_its_states(broker):
    job_queue = DramatiqJobQueue(broker)
    assert queue_depth(broker) == QueueDepth(queued=0, in_hand=0, delayed=0, dead=0)
    for index in range(4):
        job_queue.enqueue_render_chunk(user_id=USER, job_id=USER, chunk_index=index)
    retry = WebhookDeliveryMessage(
        user_id=USER, job_id=USER, event="completed", webhook_id="msg_" + "a" * 32, attempt=2
    )
    job_queue.enqueue_webhook_delivery(retry, delay_s=3600.0)
    assert queue_depth(broker) == QueueDepth(queued=4, in_hand=0, delayed=1, dead=0)

    consumer = broker.consume(QUEUE_NAME, prefetch=2, timeout=1000)
    try:
        first, second = next(consumer), next(consumer)
        assert queue_depth(broker) == QueueDepth(queued=2, in_hand=2, delayed=1, dead=0)
        consumer.ack(first)
        consumer.nack(second)
        assert queue_depth(broker) == QueueDepth(queued=2, in_hand=0, delayed=1, dead=1)
    finally:
        consumer.close()
    assert queue_depth(broker).by_state() == {"queued": 2, "in_hand": 0, "delayed": 1, "dead": 1}


def test_an_unreachable_redis_raises_queue_unavailable():
    broker = make_broker("unix:///nonexistent/voxregen-test/redis.sock")
    with pytest.raises(QueueUnavailableError, match="cannot read the queue's depth: .*unreachable"):
        queue_depth(broker)
