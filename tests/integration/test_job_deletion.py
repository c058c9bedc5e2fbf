"""Deleting a render job (voxregen_core.use_cases.render_jobs.delete_job) over real PostgreSQL
and a local object store, with jobs rendered by the worker's code: the job's objects and row
go; an input and cached features another job of the user still uses stay until the last one
is deleted; a queued job is canceled first; another user's job is never touched; a deletion
the store cuts short leaves the job (and every object it still has) for a retry to finish, so
no object is ever left without its row."""

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import attrs
import pytest

from tests.integration.worker_world import (
    SpyingStore,
    add_job,
    add_profile,
    count_rows,
    make_service,
    render_to_end,
)
from voxregen_adapters.db import tables
from voxregen_adapters.service import Service
from voxregen_core.errors import NotFoundError, StorageUnavailableError
from voxregen_core.jobs import JobStatus
from voxregen_core.keys import job_output_key, job_prefix
from voxregen_core.params import RenderParams, Style
from voxregen_core.use_cases.render_jobs import delete_job

USER = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
OTHER = uuid.UUID("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb")


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield service
    service.close()


def objects(service: Service, user_id: uuid.UUID = USER) -> list[str]:
    return service.store.list(f"users/{user_id}/")


def test_a_done_job_is_deleted_with_its_input_output_and_cached_features(service):
    job = add_job(service, add_profile(service, USER))
    render_to_end(service, USER, job.id)
    assert service.store.exists(job_output_key(USER, job.id))
    assert count_rows(service, tables.stem_feature_cache) == 1

    delete_job(service, user_id=USER, job_id=job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id) is None
    assert objects(service) == []  # input, output and the feature-cache blob
    assert count_rows(service, tables.stem_feature_cache) == 0
    with pytest.raises(NotFoundError, match=f"no render job {job.id}"):
        delete_job(service, user_id=USER, job_id=job.id)


def test_an_input_and_features_a_clone_still_renders_stay_until_the_last_job_goes(service):
    profile = add_profile(service, USER)
    original = add_job(service, profile)
    render_to_end(service, USER, original.id)
    clone = add_job(
        service,
        profile,
        data=None,
        input_object_key=original.input_object_key,
        params=RenderParams(style=Style.WARM),
    )
    render_to_end(service, USER, clone.id)
    blob = service.jobs.get(user_id=USER, job_id=original.id)

    delete_job(service, user_id=USER, job_id=original.id)
    assert service.store.exists(original.input_object_key)  # the clone's input too
    assert not service.store.exists(job_output_key(USER, original.id))
    assert count_rows(service, tables.stem_feature_cache) == 1
    rendered_again = add_job(
        service, profile, data=None, input_object_key=original.input_object_key
    )
    render_to_end(service, USER, rendered_again.id)  # the shared input still renders
    again = service.jobs.get(user_id=USER, job_id=rendered_again.id)
    assert again.status is JobStatus.DONE and again.metrics["feature_cache_hit"] is True
    assert again.stem_feature_cache_id == blob.stem_feature_cache_id

    delete_job(service, user_id=USER, job_id=clone.id)
    delete_job(service, user_id=USER, job_id=rendered_again.id)
    assert objects(service) == []
    assert count_rows(service, tables.stem_feature_cache) == 0
    assert count_rows(service, tables.render_jobs) == 0


def test_a_queued_job_is_canceled_and_deleted_and_another_users_job_is_untouched(service):
    other = add_job(service, add_profile(service, OTHER))
    render_to_end(service, OTHER, other.id)
    theirs = objects(service, OTHER)
    job = add_job(service, add_profile(service, USER))

    with pytest.raises(NotFoundError):
        delete_job(service, user_id=USER, job_id=other.id)
    delete_job(service, user_id=USER, job_id=job.id)

    assert service.jobs.get(user_id=USER, job_id=job.id) is None
    assert objects(service) == []
    assert objects(service, OTHER) == theirs
    assert service.jobs.get(user_id=OTHER, job_id=other.id).status is JobStatus.DONE
    assert count_rows(service, tables.stem_feature_cache) == 1  # the other user's


class FailingAfter(SpyingStore):
    """The store going away after ``deletes`` deletions."""

    def __init__(self, inner, deletes: int) -> None:
        super().__init__(inner)
        self.deletes_left = deletes

    def delete(self, key: str) -> None:
        if self.deletes_left == 0:
            raise StorageUnavailableError("the object store cannot be reached")
        self.deletes_left -= 1
        self.inner.delete(key)


def test_a_deletion_cut_short_keeps_the_job_and_a_retry_finishes_it(service):
    job = add_job(service, add_profile(service, USER))
    render_to_end(service, USER, job.id)
    before = objects(service)
    assert len(before) == 3  # input, output, feature-cache blob

    cut_short = FailingAfter(service.store, deletes=1)
    with pytest.raises(StorageUnavailableError):
        delete_job(attrs.evolve(service, store=cut_short), user_id=USER, job_id=job.id)

    kept = service.jobs.get(user_id=USER, job_id=job.id)
    assert kept is not None and kept.status is JobStatus.DONE  # the row, and every row, stays
    assert count_rows(service, tables.stem_feature_cache) == 1
    left = objects(service)
    assert len(left) == 2 and set(left) < set(before)  # one object went; none is orphaned
    assert all(key.startswith(job_prefix(USER, job.id)) or "feature-cache" in key for key in left)

    delete_job(service, user_id=USER, job_id=job.id)
    assert objects(service) == [] and service.jobs.get(user_id=USER, job_id=job.id) is None
    assert count_rows(service, tables.stem_feature_cache) == 0


def test_a_job_and_its_clone_deleted_at_once_leave_no_orphaned_input(service):
    """Each deletion locks the jobs sharing the input in id order, so the second sees the
    first gone and deletes the input they shared."""
    profile = add_profile(service, USER)
    for _ in range(5):
        original = add_job(service, profile)
        clone = add_job(service, profile, data=None, input_object_key=original.input_object_key)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(
                pool.map(
                    lambda job_id: delete_job(service, user_id=USER, job_id=job_id),
                    (original.id, clone.id),
                )
            )
        assert count_rows(service, tables.render_jobs) == 0
        assert objects(service) == []


def test_features_another_job_may_be_looking_up_stay(service):
    profile = add_profile(service, USER)
    done = add_job(service, profile)
    render_to_end(service, USER, done.id)
    same_audio = add_job(service, profile)  # queued: it will find the features by their hash

    delete_job(service, user_id=USER, job_id=done.id)
    assert count_rows(service, tables.stem_feature_cache) == 1
    render_to_end(service, USER, same_audio.id)
    rendered = service.jobs.get(user_id=USER, job_id=same_audio.id)
    assert rendered.status is JobStatus.DONE and rendered.metrics["feature_cache_hit"] is True
