"""RedisRenderBacklog over real Redis, held to the fair share's rules: the same pushes and
takes, in any interleaving, give exactly the units voxregen_core.fair_share.FairShare gives,
in the same order. And what the model has no need of: a turn's claim is kept until released,
so a turn run again takes the same unit; an unreachable Redis is a QueueUnavailableError.

Each test (each Hypothesis example) works under a namespace of its own, deleted afterwards."""

import contextlib
import uuid
from collections.abc import Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.redis_namespace import delete_namespace
from voxregen_adapters.redis_render_backlog import CLAIM_TTL_S, RedisRenderBacklog
from voxregen_core.errors import QueueUnavailableError
from voxregen_core.fair_share import FairShare
from voxregen_core.messages import RenderChunkMessage, RenderJobMessage

USERS = [uuid.UUID(int=number + 1) for number in range(4)]
UNREACHABLE_REDIS_URL = "unix:///nonexistent/voxregen-test/redis.sock"
ADA, BOB = USERS[:2]


def _chunk(user_id: uuid.UUID, number: int) -> RenderChunkMessage:
    return RenderChunkMessage(user_id=user_id, job_id=uuid.UUID(int=number), chunk_index=number)


def _start(user_id: uuid.UUID, number: int) -> RenderJobMessage:
    return RenderJobMessage(user_id=user_id, job_id=uuid.UUID(int=number))


@contextlib.contextmanager
def _backlog(redis_url: str) -> Iterator[tuple[RedisRenderBacklog, redis.Redis]]:
    client = redis.Redis.from_url(redis_url)
    namespace = f"voxregen-test-{uuid.uuid4().hex}"
    try:
        yield RedisRenderBacklog(client, namespace=namespace), client
    finally:
        delete_namespace(client, namespace)
        client.close()


@pytest.fixture
def backlog(redis_url) -> Iterator[RedisRenderBacklog]:
    with _backlog(redis_url) as (backlog, _):
        yield backlog


def _take(backlog: RedisRenderBacklog):
    turn_id = uuid.uuid4()
    work = backlog.claim(turn_id)
    backlog.release(turn_id)
    return work


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("push"), st.sampled_from(USERS), st.booleans()),
            st.tuples(st.just("take")),
        ),
        max_size=80,
    )
)
def test_redis_hands_out_exactly_what_the_model_does(redis_url, operations):
    model = FairShare()
    with _backlog(redis_url) as (backlog, _):
        for number, operation in enumerate(operations):
            if operation[0] == "push":
                _, user_id, chunk = operation
                work = _chunk(user_id, number) if chunk else _start(user_id, number)
                backlog.push(work)
                model.push(work)
            else:
                assert _take(backlog) == model.take()
        assert len(backlog.waiting()) == model.waiting()
        while (expected := model.take()) is not None:
            assert _take(backlog) == expected
        assert _take(backlog) is None
        assert backlog.waiting() == []


def test_a_turn_run_again_takes_the_unit_it_claimed(backlog):
    for number in range(3):
        backlog.push(_chunk(ADA, number))
    turn = uuid.uuid4()
    assert backlog.claim(turn) == _chunk(ADA, 0)
    assert backlog.claim(turn) == _chunk(ADA, 0)  # redelivered, or retried: the same unit
    assert backlog.claimed(turn) == _chunk(ADA, 0)
    assert _take(backlog) == _chunk(ADA, 1)  # another turn takes the next one
    backlog.release(turn)
    assert backlog.claimed(turn) is None
    assert backlog.claim(turn) == _chunk(ADA, 2)  # released: a turn after that takes anew


def test_a_claim_expires_after_a_day(redis_url):
    with _backlog(redis_url) as (backlog, client):
        backlog.push(_start(ADA, 1))
        turn = uuid.uuid4()
        backlog.claim(turn)
        (key,) = client.scan_iter("*:claim:*")
        assert CLAIM_TTL_S - 5 < client.ttl(key) <= CLAIM_TTL_S == 86_400


def test_a_turn_with_nothing_waiting_claims_nothing(backlog):
    turn = uuid.uuid4()
    assert backlog.claim(turn) is None
    assert backlog.claimed(turn) is None
    backlog.push(_start(BOB, 1))
    assert backlog.claim(turn) == _start(BOB, 1)


def test_waiting_lists_each_users_chunks_then_starts_users_in_turn_order(backlog):
    backlog.push(_start(ADA, 1))
    backlog.push(_chunk(ADA, 2))
    backlog.push(_start(BOB, 3))
    assert backlog.waiting() == [_chunk(ADA, 2), _start(ADA, 1), _start(BOB, 3)]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda backlog: backlog.push(_start(ADA, 1)), "cannot queue render_job: "),
        (lambda backlog: backlog.push(_chunk(ADA, 1)), "cannot queue render_chunk: "),
        (lambda backlog: backlog.claim(uuid.uuid4()), "cannot claim render work: "),
        (lambda backlog: backlog.claimed(uuid.uuid4()), "cannot read a claim: "),
        (lambda backlog: backlog.release(uuid.uuid4()), "cannot release a claim: "),
        (lambda backlog: backlog.waiting(), "cannot list render work: "),
    ],
    ids=["push_start", "push_chunk", "claim", "claimed", "release", "waiting"],
)
def test_an_unreachable_redis_raises_queue_unavailable(call, match):
    backlog = RedisRenderBacklog(redis.Redis.from_url(UNREACHABLE_REDIS_URL), namespace="x")
    with pytest.raises(QueueUnavailableError, match=match + "the job queue's Redis is unreach"):
        call(backlog)
