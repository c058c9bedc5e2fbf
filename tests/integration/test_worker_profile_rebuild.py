"""A profile rebuilt while one of its jobs renders, over real PostgreSQL, the real profile
build and a local object store: the job goes on with the embedding it pinned while the new one
builds, starts its chunks over once the new one replaces it (between chunks, during a chunk, or
before a resume), and ends done with every stitched chunk from one embedding."""

import uuid
from collections.abc import Callable, Iterator

import attrs
import pytest
import structlog

from tests.fakes import InMemoryJobQueue
from tests.integration.worker_world import (
    SpyingStore,
    add_job,
    add_profile,
    add_reference,
    make_service,
    reference_wav,
    render_to_end,
)
from voxregen_adapters.service import Service
from voxregen_core.chunk_codec import decode_chunk
from voxregen_core.jobs import JobStatus
from voxregen_core.keys import chunks_prefix
from voxregen_core.messages import RenderChunkMessage
from voxregen_core.profiles import ProfileStatus, SingerProfile
from voxregen_core.stub_generator import StubGenerator
from voxregen_worker.profile_build import profile_build
from voxregen_worker.render_job import Renderer

USER = uuid.UUID("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa")
CHUNKS_TOTAL = 3  # worker_world's stem


class Killed(Exception):
    """A worker dying in the middle of a chunk."""


@pytest.fixture
def service(fresh_database_url, redis_url, tmp_path) -> Iterator[Service]:
    service = make_service(fresh_database_url, redis_url, tmp_path)
    yield service
    service.close()


def built_profile(service: Service) -> SingerProfile:
    """A profile built for real from one reference."""
    profile = add_profile(service, USER, status=ProfileStatus.BUILDING)
    add_reference(service, profile, reference_wav(seconds=4.0))
    profile_build(service, USER, profile.id)
    return service.profiles.get(user_id=USER, profile_id=profile.id)


def commit_reference(service: Service, profile: SingerProfile) -> None:
    """What the API's commit of a new reference does: the row, and the profile ``building``."""
    add_reference(service, profile, reference_wav(seconds=5.0))
    assert service.profiles.set_status(
        user_id=USER, profile_id=profile.id, status=ProfileStatus.BUILDING
    )


def finish_rebuild(service: Service, profile: SingerProfile) -> str:
    """The queued profile_build, run: the new embedding replaces the old; its fingerprint."""
    profile_build(service, USER, profile.id)
    rebuilt = service.profiles.get(user_id=USER, profile_id=profile.id)
    assert rebuilt.status is ProfileStatus.READY
    return rebuilt.embedding_fingerprint


class Meanwhile(StubGenerator):
    """The stub generator, recording which embedding made each chunk, and calling each of
    ``after`` (chunk index → callable) once, after generating that chunk (while the worker
    still has to store and record it)."""

    def __init__(self, after: dict[int, Callable[[], None]]) -> None:
        super().__init__()
        self.after = dict(after)
        self.made: list[tuple[int, str]] = []

    def generate_chunk(self, features, singer_profile, params):
        audio = super().generate_chunk(features, singer_profile, params)
        self.made.append((features.chunk_index, singer_profile.embedding_fingerprint))
        hook = self.after.pop(features.chunk_index, None)
        if hook is not None:
            hook()
        return audio


def stitched_embeddings(store: SpyingStore, job_id: uuid.UUID) -> list[str]:
    """The embedding fingerprint in the provenance of each chunk read for the stitch (the last
    ``CHUNKS_TOTAL`` chunk reads), in order."""
    chunk_reads = [data for key, data in store.gets if key.startswith(chunks_prefix(USER, job_id))]
    return [decode_chunk(data)[1].rsplit(":", 1)[1] for data in chunk_reads[-CHUNKS_TOTAL:]]


def test_a_rebuild_committed_and_finished_between_chunks_leaves_a_done_job_of_one_embedding(
    service,
):
    profile = built_profile(service)
    old = profile.embedding_fingerprint
    job = add_job(service, profile)
    rebuilt: list[str] = []
    generator = Meanwhile(
        {
            0: lambda: commit_reference(service, profile),  # chunk 1 renders while it builds
            1: lambda: rebuilt.append(finish_rebuild(service, profile)),
        }
    )
    store = SpyingStore(service.store)
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        renderer = render_to_end(
            attrs.evolve(service, store=store), USER, job.id, generator=generator
        )

    (new,) = rebuilt
    assert new != old
    done = service.jobs.get(user_id=USER, job_id=job.id)
    assert done.status is JobStatus.DONE, done.error_message
    # chunks 0 and 1 (recorded on the old embedding) are started over on the new one by chunk 2
    assert generator.made == [(0, old), (1, old), (2, new), (0, new), (1, new)]
    assert stitched_embeddings(store, job.id) == [new] * CHUNKS_TOTAL
    ledger = service.jobs.ledger(user_id=USER, job_id=job.id)
    assert (ledger.embedding_fingerprint, ledger.generated) == (new, 5)
    assert done.metrics["chunks_total"] == CHUNKS_TOTAL and done.metrics["chunks_reused"] == 0
    (over,) = [line for line in logs if line["event"] == "render_job_started_over"]
    assert (over["chunk_index"], over["embedding_fingerprint"]) == (2, new)
    queued = [chunk.chunk_index for chunk in renderer.service.queue.of_type(RenderChunkMessage)]
    assert queued == [0, 1, 2, 0, 1]
    assert service.store.list(chunks_prefix(USER, job.id)) == []


def test_a_chunk_made_while_another_worker_started_the_job_over_is_not_recorded(service):
    profile = built_profile(service)
    old = profile.embedding_fingerprint
    job = add_job(service, profile)
    queue = InMemoryJobQueue()
    rebuilt: list[str] = []

    def rebuilt_and_chunk_2_done_by_another_worker() -> None:
        commit_reference(service, profile)
        rebuilt.append(finish_rebuild(service, profile))
        other = Renderer(attrs.evolve(service, queue=queue), StubGenerator())
        other.render_chunk(USER, job.id, 2)  # sees the new embedding: starts the chunks over

    generator = Meanwhile({1: rebuilt_and_chunk_2_done_by_another_worker})
    store = SpyingStore(service.store)
    with structlog.testing.capture_logs() as logs:
        render_to_end(
            attrs.evolve(service, store=store), USER, job.id, generator=generator, queue=queue
        )

    (new,) = rebuilt
    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    (stale,) = [line for line in logs if line["event"] == "render_chunk_stale"]
    assert (stale["embedding_fingerprint"], stale["ledger_embedding_fingerprint"]) == (old, new)
    # chunk 1 of the old embedding was queued again and made anew; chunk 2 was found stored
    assert generator.made == [(0, old), (1, old), (0, new), (1, new)]
    assert stitched_embeddings(store, job.id) == [new] * CHUNKS_TOTAL
    assert service.jobs.ledger(user_id=USER, job_id=job.id).embedding_fingerprint == new


def test_a_job_resumed_after_a_rebuild_starts_its_chunks_over_on_the_new_embedding(service):
    profile = built_profile(service)
    old = profile.embedding_fingerprint
    job = add_job(service, profile)

    def killed() -> None:
        raise Killed("killed before chunk 1 was stored")

    with pytest.raises(Killed, match="chunk 1"):
        render_to_end(service, USER, job.id, generator=Meanwhile({1: killed}))
    commit_reference(service, profile)
    new = finish_rebuild(service, profile)

    generator = Meanwhile({})
    store = SpyingStore(service.store)
    renderer = render_to_end(attrs.evolve(service, store=store), USER, job.id, generator=generator)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    queued = [chunk.chunk_index for chunk in renderer.service.queue.of_type(RenderChunkMessage)]
    assert queued == [0, 1, 2]  # chunk 0, recorded on the old embedding, is not kept
    assert generator.made == [(0, new), (1, new), (2, new)]
    assert stitched_embeddings(store, job.id) == [new] * CHUNKS_TOTAL
    assert new != old


def test_a_profile_that_is_rebuilding_renders_a_new_job_with_its_built_embedding(service):
    profile = built_profile(service)
    commit_reference(service, profile)  # its build queued, not run yet
    job = add_job(service, profile)
    generator = Meanwhile({})

    render_to_end(service, USER, job.id, generator=generator)

    assert service.jobs.get(user_id=USER, job_id=job.id).status is JobStatus.DONE
    assert {made for _, made in generator.made} == {profile.embedding_fingerprint}
