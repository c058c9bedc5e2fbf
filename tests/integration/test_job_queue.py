"""DramatiqJobQueue over real Redis: a real dramatiq Worker runs a real actor on what was sent.

Each test uses its own broker namespace, so tests run in any order and leave no shared keys.
"""

import queue
import uuid

import dramatiq
import pytest

from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import DramatiqJobQueue
from voxregen_core.errors import InvalidParamsError, QueueUnavailableError

UNREACHABLE_REDIS_URL = "unix:///nonexistent/voxregen-test/redis.sock"


def test_a_real_worker_runs_the_actor_with_the_arguments_intact(broker):
    received: queue.Queue[tuple] = queue.Queue()

    @dramatiq.actor(broker=broker, actor_name="render_job", max_retries=0)
    def render_job(*args):
        received.put(args)

    job_id = str(uuid.uuid4())
    args = (job_id, "users/u/jobs/j/input.wav", 3, 2**53 + 1, -0.25, True, False, None, "")
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        DramatiqJobQueue(broker, actor_names={"render_job"}).enqueue("render_job", *args)
        assert received.get(timeout=10) == args
    finally:
        worker.stop()


def test_an_unreachable_redis_raises_queue_unavailable():
    job_queue = DramatiqJobQueue(make_broker(UNREACHABLE_REDIS_URL), actor_names={"render_job"})
    with pytest.raises(QueueUnavailableError, match="cannot queue render_job: .* unreachable"):
        job_queue.enqueue("render_job", "id")


@pytest.mark.parametrize(
    ("actor_name", "args", "match"),
    [
        ("render_job", (uuid.uuid4(),), "argument 0 must be a finite JSON primitive .* got UUID"),
        ("render_job", ("ok", b"audio"), "argument 1 must be a finite JSON primitive .* got bytes"),
        ("unknown_actor", ("id",), "unknown actor 'unknown_actor'; known: render_job"),
    ],
)
def test_bad_messages_are_refused_before_redis_is_touched(actor_name, args, match):
    job_queue = DramatiqJobQueue(make_broker(UNREACHABLE_REDIS_URL), actor_names={"render_job"})
    with pytest.raises(InvalidParamsError, match=match):
        job_queue.enqueue(actor_name, *args)
