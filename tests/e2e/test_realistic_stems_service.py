"""The realistic corpus (tests/realistic_stems.py) through the service as an operator runs it
(tests/e2e/stack.py): `voxregen api` and two `voxregen worker` processes over PostgreSQL,
Redis and the local object store. One stack for the whole corpus: every stem is uploaded
through its signed URL and its job created up front, the workers take them from the queue, and
each test waits for its own job, downloads the delivery through its signed URL and checks it
as the CLI's is checked (``check_delivery``, on ffmpeg's ebur128, with the job's metrics)."""

from collections.abc import Iterator

import attrs
import pytest

from tests.e2e.stack import Stack, User
from tests.e2e.stack import claimed_redis as _claimed_redis
from tests.integration.migrated_database import new_database
from tests.realistic_stems import CASES, Case, StemCorpus, check_delivery

pytestmark = pytest.mark.slow

WORKERS = 2
SIGNING_KEY = "realistic-stems-signing-key-0123456789abcdef"
"""Signs the local object store's upload and download URLs."""
JOBS_TIMEOUT_S = 300.0
"""How long a test waits for its job: every job of the corpus was queued before it."""


@attrs.frozen
class Submitted:
    stack: Stack
    user: User
    job_ids: dict[str, str]
    """Each case's job, by case name."""


@pytest.fixture(scope="module")
def submitted(
    database_url, redis_url, realistic_stems: StemCorpus, tmp_path_factory
) -> Iterator[Submitted]:
    work_dir = tmp_path_factory.mktemp("realistic-service")
    with (
        new_database(database_url) as stack_database_url,
        _claimed_redis(redis_url) as queue_url,
        Stack(
            database_url=stack_database_url,
            redis_url=queue_url,
            storage_url=(work_dir / "store").as_uri(),
            work_dir=work_dir,
            env={"VOXREGEN_SIGNING_KEY": SIGNING_KEY},
        ) as stack,
    ):
        stack.start_api()
        for _ in range(WORKERS):
            stack.start_worker()
        user = stack.user()
        profile_id = user.ready_profile()
        job_ids = {
            case.name: user.submit(profile_id, realistic_stems.path(case).read_bytes())
            for case in CASES
        }
        yield Submitted(stack=stack, user=user, job_ids=job_ids)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_realistic_stem_is_delivered_by_the_api_and_worker(
    case: Case, submitted: Submitted, realistic_stems: StemCorpus
):
    job_id = submitted.job_ids[case.name]
    job = submitted.user.finished(job_id, timeout_s=JOBS_TIMEOUT_S, poll_s=0.25)[-1]

    assert (job["status"], job["error"]) == ("done", None), f"{job}\n{submitted.stack.logs()}"
    stem = realistic_stems.path(case)
    check_delivery(case, stem, submitted.user.download(job_id), job["metrics"])
    assert submitted.stack.stored_input(submitted.user.id, job_id) == stem.read_bytes()
