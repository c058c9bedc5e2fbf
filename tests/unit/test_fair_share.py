"""The fair share's rules (voxregen_core.fair_share), as properties over any interleaving of
work queued and taken: nothing is lost or invented; a user's chunks go before its starts, each
lane in order; a user who arrives waits for at most one turn of each user already waiting,
whatever their backlogs; and users who all keep work waiting take turns."""

import uuid
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from voxregen_core.fair_share import FairShare, Lane, RenderWork, arrival_tag, lane_of
from voxregen_core.messages import RenderChunkMessage, RenderJobMessage

USERS = [uuid.UUID(int=number + 1) for number in range(4)]
JOB = uuid.UUID(int=99)


def _work(user_id: uuid.UUID, number: int, *, chunk: bool) -> RenderWork:
    """A unit of ``user_id``'s work told apart from the others by ``number``."""
    job_id = uuid.UUID(int=number + 1000)
    if chunk:
        return RenderChunkMessage(user_id=user_id, job_id=job_id, chunk_index=number)
    return RenderJobMessage(user_id=user_id, job_id=job_id)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.sampled_from(USERS), st.booleans()),
        st.tuples(st.just("take")),
    ),
    max_size=120,
)


def _play(operations) -> tuple[list[RenderWork], list[RenderWork], FairShare]:
    """Run the operations; what was pushed and what was taken, in order, and the share."""
    share, pushed, taken = FairShare(), [], []
    for number, operation in enumerate(operations):
        if operation[0] == "push":
            pushed.append(_work(operation[1], number, chunk=operation[2]))
            share.push(pushed[-1])
        elif (work := share.take()) is not None:
            taken.append(work)
    return pushed, taken, share


@given(operations)
def test_every_unit_queued_is_taken_once_and_nothing_else(operations):
    pushed, taken, share = _play(operations)
    while (work := share.take()) is not None:
        taken.append(work)
    assert Counter(taken) == Counter(pushed)
    assert share.waiting() == 0
    assert share.take() is None


@given(operations)
def test_within_a_user_chunks_go_before_starts_and_each_lane_in_order(operations):
    share, waiting = FairShare(), {user: [] for user in USERS}
    for number, operation in enumerate(operations):
        if operation[0] == "push":
            work = _work(operation[1], number, chunk=operation[2])
            share.push(work)
            waiting[work.user_id].append(work)
            continue
        work = share.take()
        if work is None:
            assert not any(waiting.values())
            continue
        mine = waiting[work.user_id]
        chunks = [unit for unit in mine if lane_of(unit) is Lane.CHUNKS]
        assert work == (chunks or mine)[0]
        mine.remove(work)
    assert share.waiting() == sum(map(len, waiting.values()))


@given(operations, st.integers(min_value=0, max_value=200))
def test_a_newcomer_waits_at_most_one_turn_of_each_user_waiting(operations, backlog):
    """However much the others queued (``backlog`` more units for the first user), a user
    never served before gets its first unit within one take per other user waiting."""
    newcomer = uuid.UUID(int=77)
    pushed, taken, share = _play(operations)
    for number in range(backlog):
        pushed.append(_work(USERS[0], len(operations) + number, chunk=number % 3 > 0))
        share.push(pushed[-1])
    left = Counter(work.user_id for work in pushed) - Counter(work.user_id for work in taken)
    share.push(_work(newcomer, 10**6, chunk=False))
    takes = [share.take() for _ in range(len(left) + 1)]
    assert newcomer in {work.user_id for work in takes}, (left, takes)


@given(st.lists(st.integers(min_value=1, max_value=40), min_size=2, max_size=4))
def test_users_who_all_keep_work_waiting_take_turns(backlogs):
    share = FairShare()
    users = USERS[: len(backlogs)]
    for number in range(max(backlogs)):
        for user, backlog in zip(users, backlogs, strict=True):
            if number < backlog:
                share.push(_work(user, number, chunk=True))
    counts: Counter[uuid.UUID] = Counter()
    while (work := share.take()) is not None:
        counts[work.user_id] += 1
        still_waiting = [
            user for user, backlog in zip(users, backlogs, strict=True) if counts[user] < backlog
        ]
        # every user with work left has had as many turns as any other, or one fewer
        if still_waiting:
            served = [counts[user] for user in still_waiting]
            assert max(served) - min(served) <= 1, counts


def test_a_user_who_empties_its_backlog_and_fills_it_again_does_not_jump_the_queue():
    share = FairShare()
    ada, bob = USERS[:2]
    for number in range(3):
        share.push(_work(ada, number, chunk=True))
    share.push(_work(bob, 10, chunk=True))
    assert share.take().user_id == ada
    assert share.take().user_id == bob  # bob's backlog is empty now
    share.push(_work(bob, 11, chunk=True))  # and full again: ada's turn first
    assert [share.take().user_id for _ in range(3)] == [ada, bob, ada]


def test_a_newcomer_is_served_before_a_backlog_of_fifty_starts():
    share = FairShare()
    ada, bob = USERS[:2]
    for number in range(50):
        share.push(_work(ada, number, chunk=False))
    assert share.take().user_id == ada  # a worker busy with ada's first job
    share.push(_work(bob, 100, chunk=False))
    assert share.take() == _work(bob, 100, chunk=False)
    assert share.waiting() == 49


def test_the_arrival_tag_is_the_virtual_time_or_the_users_own_later_finish():
    assert arrival_tag(virtual_time=7, finish_tag=0) == 7
    assert arrival_tag(virtual_time=7, finish_tag=9) == 9
