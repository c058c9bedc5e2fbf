"""Outages mid-job, with real processes: Redis restarted (and restarted empty), the object store
unreachable, PostgreSQL restarted. Each job still finishes, delivering byte for byte what an
uninterrupted render delivers; none stays ``running``; the input is never lost; the API and
the worker survive the outage.

The servers are this module's own, so that they can be stopped: the embedded PostgreSQL and
Redis (:mod:`voxregen_adapters.embedded`) in a temporary folder, and moto's S3 behind a
:class:`~tests.e2e.tcp_proxy.TcpProxy` that the test cuts. The machine's shared PostgreSQL
and Redis are never touched. One stack serves the module's tests, one job each, in turn.
"""

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

from tests.e2e.stack import (
    Stack,
    User,
    assert_same_bytes,
    check_done,
    s3_storage_url,
    singing_wav,
    stem_s_for,
    uninterrupted_render,
    wait_for,
)
from tests.e2e.tcp_proxy import TcpProxy, tcp_proxy
from voxregen_adapters.embedded import EmbeddedPostgres, EmbeddedRedis, start_postgres, start_redis

CHUNKS = 7
STEM_S = stem_s_for(CHUNKS)
STACK_ENV = {
    "VOXREGEN_STUB_SECONDS_PER_CHUNK": "1",
    "VOXREGEN_WORKER_HEARTBEAT_TIMEOUT_S": "3",
    "VOXREGEN_STALL_TIMEOUT_S": "4",
}
"""A chunk takes a second, so an outage lands mid-job; the sweeper re-queues a job whose row
has not changed for 4 s (what brings back the messages an emptied Redis lost)."""
SHORT_DEADLINE_S = 20.0
"""The job deadline of the worker that ends a job the object store never comes back for."""
SERVER_DOWN_S = 3.0
STORE_CUT_S = 10.0
JOB_TIMEOUT_S = 150.0
"""Bound on a job's end after an outage: Dramatiq's retries back off 1, 2, 4, 8 … s."""


@attrs.define
class Outages:
    """The module's stack and the servers under it, which the tests stop and start."""

    stack: Stack
    user: User
    profile_id: str
    postgres: EmbeddedPostgres
    redis: EmbeddedRedis
    store_proxy: TcpProxy
    work_dir: Path

    def submit_and_wait_for_a_chunk(self) -> str:
        """A new seven-chunk job, once its first chunk is recorded."""
        job_id = self.user.submit(self.profile_id, singing_wav(STEM_S, seed=5))
        self.wait(
            lambda: self.user.job(job_id)["progress"]["chunks_done"] >= 1,
            what=f"job {job_id} to record a chunk",
        )
        return job_id

    def wait(self, condition: Callable[[], object], *, what: str) -> None:
        wait_for(condition, what=what, timeout_s=JOB_TIMEOUT_S, context=self.stack.logs)

    def assert_delivered_and_kept(self, job_id: str) -> None:
        """The job is done, with the uninterrupted render's bytes; its input is unchanged;
        every process still runs."""
        states = self.user.finished(job_id, timeout_s=JOB_TIMEOUT_S)
        check_done(states, chunks=CHUNKS, context=self.stack.logs)
        assert self.stack.stored_input(self.user.id, job_id) == singing_wav(STEM_S, seed=5)
        assert_same_bytes(
            self.user.download(job_id),
            uninterrupted_render(self.stack, self.user.id, job_id, self.work_dir),
        )
        assert all(process.alive for process in self.stack.processes), self.stack.logs()

    def job_through(self, outage: Callable[["Outages"], None]) -> tuple[str, int]:
        """A new job, ``outage`` once its first chunk is recorded, then the checks of
        :meth:`assert_delivered_and_kept`; the job's id and how many messages Dramatiq retried
        from the outage on."""
        job_id = self.submit_and_wait_for_a_chunk()
        retries_before = self.retries()
        outage(self)
        self.assert_delivered_and_kept(job_id)
        return job_id, self.retries() - retries_before

    def retries(self) -> int:
        """Messages Dramatiq has retried so far (after a transient error)."""
        return sum(
            str(event["event"]).startswith("Retrying message") for event in self.stack.events()
        )


@pytest.fixture(scope="module")
def outages(tmp_path_factory, s3_endpoint) -> Iterator[Outages]:
    work_dir = tmp_path_factory.mktemp("outages")
    servers = [start_postgres(work_dir / "postgres"), start_redis(work_dir / "redis")]
    try:
        with (
            tcp_proxy(s3_endpoint) as store_proxy,
            Stack(
                database_url=servers[0].url,
                redis_url=servers[1].url,
                storage_url=s3_storage_url(store_proxy.address),
                work_dir=work_dir,
                env=STACK_ENV,
            ) as stack,
        ):
            stack.start_api()
            stack.start_worker()
            user = stack.user()
            world = Outages(
                stack=stack,
                user=user,
                profile_id=user.ready_profile(),
                postgres=servers[0],
                redis=servers[1],
                store_proxy=store_proxy,
                work_dir=work_dir,
            )
            yield world
            servers = [world.postgres, world.redis]  # as the tests left them
        assert stack.exit_codes == {"api": -signal.SIGTERM} | {
            worker.name: 0 for worker in stack.workers
        }, stack.logs()
    finally:
        for server in servers:
            server.stop()


def _restart_redis(outages: Outages) -> None:
    outages.redis.stop()
    time.sleep(SERVER_DOWN_S)  # the outage itself, not a wait for something to happen
    outages.redis = start_redis(outages.redis.data_dir)


def _restart_redis_empty(outages: Outages) -> None:
    outages.redis.stop()
    (outages.redis.data_dir / "appendonly.aof").unlink()
    outages.redis = start_redis(outages.redis.data_dir)


def _cut_the_object_store(outages: Outages) -> None:
    outages.store_proxy.cut_off()
    time.sleep(STORE_CUT_S)  # the outage itself
    outages.store_proxy.restore()


def _restart_postgres(outages: Outages) -> None:
    outages.postgres.stop()
    time.sleep(SERVER_DOWN_S)  # the outage itself
    outages.postgres = start_postgres(outages.postgres.data_dir)


@pytest.mark.slow
def test_redis_restarted_mid_job(outages):
    outages.job_through(_restart_redis)


@pytest.mark.slow
def test_redis_back_empty_mid_job_the_sweeper_queues_the_job_again(outages):
    job_id, _ = outages.job_through(_restart_redis_empty)
    requeued = [
        event for event in outages.stack.events("render_job_requeued") if event["job_id"] == job_id
    ]
    assert requeued, "the job's lost messages should have been replaced by the sweeper"


@pytest.mark.slow
def test_object_store_unreachable_mid_job(outages):
    _, retried = outages.job_through(_cut_the_object_store)
    assert retried > 0, "the cut should have failed a message"


@pytest.mark.slow
def test_postgres_restarted_mid_job(outages):
    _, retried = outages.job_through(_restart_postgres)
    assert retried > 0, "the restart should have failed a message"


@pytest.mark.slow
def test_object_store_gone_for_good_fails_the_job_at_its_deadline_keeping_the_input(outages):
    """The bound on an outage that does not end: the sweeper fails the job once it is older
    than the job deadline, with a code and a message. The module's worker gives way to one
    with a short deadline (with both, the lenient one's sweeper claimed the stalled job
    first every time and queued it again)."""
    for worker in outages.stack.workers:
        assert worker.terminate() == 0, outages.stack.logs()
    strict = outages.stack.start_worker({"VOXREGEN_JOB_DEADLINE_S": f"{SHORT_DEADLINE_S:g}"})
    job_id = outages.submit_and_wait_for_a_chunk()
    outages.store_proxy.cut_off()
    try:
        states = outages.user.finished(job_id, timeout_s=SHORT_DEADLINE_S + 30.0)
    finally:
        outages.store_proxy.restore()
        assert strict.terminate() == 0, outages.stack.logs()

    job = states[-1]
    assert job["status"] == "failed", f"{job}\n{outages.stack.logs()}"
    assert job["error"]["code"] == "render_timed_out", job
    assert f"{SHORT_DEADLINE_S:g} s" in job["error"]["message"], job
    assert outages.stack.stored_input(outages.user.id, job_id) == singing_wav(STEM_S, seed=5)
