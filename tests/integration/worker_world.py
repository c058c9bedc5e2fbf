"""A real service for the worker's tests: a migrated PostgreSQL database of its own, the
session's Redis and a local object store in a temporary folder; plus rows to work on."""

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import attrs
import numpy as np
import sqlalchemy as sa

from tests.fakes import InMemoryJobQueue
from tests.integration.migrated_database import connected, migrated_engine
from tests.signals import synthetic_singing, wav_bytes
from voxregen.composition.service_parts import build_service
from voxregen_adapters.db import tables
from voxregen_adapters.service import Service
from voxregen_adapters.settings import Settings
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import job_input_key, reference_key
from voxregen_core.messages import RenderChunkMessage
from voxregen_core.params import RenderParams
from voxregen_core.ports import Generator, ObjectStore
from voxregen_core.profiles import ProfileStatus, SingerProfile, SingerReference
from voxregen_core.stub_generator import StubGenerator
from voxregen_worker.render_job import Renderer

SIGNING_KEY = b"worker-tests-signing-key-0123456789abcdef"
STEM_S = 36.0
"""Three chunks (18 s chunks on a 16 s stride)."""
STEM_WAV = wav_bytes(synthetic_singing(STEM_S, seed=4).audio, subtype="PCM_16")


def make_service(
    database_url: str,
    redis_url: str,
    storage_dir: Path,
    *,
    storage_url: str | None = None,
    store: ObjectStore | None = None,
) -> Service:
    """The service over a freshly migrated ``database_url`` and a local store in
    ``storage_dir`` (unless ``storage_url`` or ``store`` say otherwise); the caller closes it."""
    migrated_engine(database_url).dispose()
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        storage_url=storage_url or storage_dir.as_uri(),
        public_url="http://127.0.0.1:8000",
        signing_key=SIGNING_KEY,
        cache_dir=storage_dir / "cache",
        data_dir=storage_dir / "data",
    )
    return build_service(settings, store=store)


def reference_wav(
    *, seconds: float = 4.0, subtype: str = "PCM_16", container: str = "WAV"
) -> bytes:
    """A usable reference: a vibrato tone with a half-second pause in the middle."""
    t_s = np.arange(int(seconds * 48_000)) / 48_000
    audio = 0.3 * np.sin(2 * np.pi * 220.0 * t_s + 0.3 * np.sin(2 * np.pi * 5.5 * t_s))
    middle = len(audio) // 2
    audio[middle - 12_000 : middle + 12_000] = 0.0
    return wav_bytes(audio, subtype=subtype, container=container)


def add_profile(
    service: Service, user_id: uuid.UUID, *, status: ProfileStatus = ProfileStatus.READY
) -> SingerProfile:
    return service.profiles.add(
        SingerProfile(id=uuid.uuid4(), user_id=user_id, name="Ada", status=status)
    )


def add_reference(service: Service, profile: SingerProfile, data: bytes) -> SingerReference:
    """A reference row of ``profile`` with ``data`` uploaded under its key."""
    reference_id = uuid.uuid4()
    key = reference_key(profile.user_id, profile.id, reference_id)
    service.store.put(key, data)
    return service.references.add(
        SingerReference(
            id=reference_id,
            user_id=profile.user_id,
            singer_profile_id=profile.id,
            object_key=key,
            duration_s=0.0,
        )
    )


def add_job(
    service: Service,
    profile: SingerProfile,
    *,
    data: bytes | None = STEM_WAV,
    input_object_key: str | None = None,
    params: RenderParams | None = None,
    input_hash: str | None = None,
) -> RenderJob:
    """A queued job of ``profile``; ``data`` (if any) uploaded to its input key, its input hash
    known if given (a clone's is)."""
    job_id = uuid.uuid4()
    key = input_object_key or job_input_key(profile.user_id, job_id)
    if data is not None:
        service.store.put(key, data)
    return service.jobs.add(
        RenderJob(
            id=job_id,
            user_id=profile.user_id,
            singer_profile_id=profile.id,
            input_object_key=key,
            params=params or RenderParams(),
            input_hash=input_hash,
        )
    )


def job_error(service: Service, job: RenderJob) -> tuple[str | None, str | None]:
    """The job row's ``(error_code, error_message)``."""
    query = sa.select(tables.render_jobs.c.error_code, tables.render_jobs.c.error_message).where(
        tables.render_jobs.c.id == job.id
    )
    with connected(service.settings.database_url) as connection:
        return tuple(connection.execute(query).one())


def count_rows(service: Service, table: sa.Table) -> int:
    with connected(service.settings.database_url) as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


class SpyingStore:
    """The service's store as a worker test watches it: every key put, and every key read with
    its bytes (by ``get``), in order. ``on_get`` (if set) is called with each key before it is
    read or opened; ``delete_error`` (if set) is raised by every delete."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.puts: list[str] = []
        self.gets: list[tuple[str, bytes]] = []
        self.on_get: Callable[[str], None] | None = None
        self.delete_error: Exception | None = None

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def put(self, key: str, data: bytes) -> None:
        self.puts.append(key)
        self.inner.put(key, data)

    def get(self, key: str) -> bytes:
        if self.on_get is not None:
            self.on_get(key)
        data = self.inner.get(key)
        self.gets.append((key, data))
        return data

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        if self.on_get is not None:
            self.on_get(key)
        return self.inner.open(key)

    def delete(self, key: str) -> None:
        if self.delete_error is not None:
            raise self.delete_error
        self.inner.delete(key)


def render_to_end(
    service: Service,
    user_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    generator: Generator | None = None,
    chunk_order: list[int] | None = None,
    queue: InMemoryJobQueue | None = None,
) -> Renderer:
    """Run ``render_job`` for the job, then each ``render_chunk`` message it queued, in
    ``chunk_order`` if given (else as queued), then any the chunks queued in turn (a job
    started over), in this process, as one worker would; returns the renderer (its queue,
    ``queue`` if given, records every message)."""
    if queue is None:
        queue = InMemoryJobQueue()
    renderer = Renderer(attrs.evolve(service, queue=queue), generator or StubGenerator())
    renderer.render_job(user_id, job_id)
    chunks = queue.of_type(RenderChunkMessage)
    if chunk_order is not None:
        chunks = [chunks[index] for index in chunk_order]
    handled = len(queue.messages)
    while chunks:
        for chunk in chunks:
            renderer.render_chunk(chunk.user_id, chunk.job_id, chunk.chunk_index)
        later, handled = queue.messages[handled:], len(queue.messages)
        chunks = [message for message in later if isinstance(message, RenderChunkMessage)]
    return renderer


def backdate_job(
    engine: sa.Engine, job_id: uuid.UUID, *, updated_ago: timedelta, created_ago: timedelta
) -> None:
    """Make the job's row look untouched for ``updated_ago`` and created ``created_ago`` ago."""
    _backdate(
        engine,
        tables.render_jobs,
        job_id,
        updated_at=sa.func.now() - updated_ago,
        created_at=sa.func.now() - created_ago,
    )


def backdate_profile(engine: sa.Engine, profile_id: uuid.UUID, *, updated_ago: timedelta) -> None:
    """Make the profile's row look untouched for ``updated_ago``."""
    _backdate(engine, tables.singer_profiles, profile_id, updated_at=sa.func.now() - updated_ago)


def backdate_feature_cache_entry(
    engine: sa.Engine, entry_id: uuid.UUID, *, accessed_ago: timedelta
) -> None:
    """Make the feature-cache entry look last used ``accessed_ago`` ago."""
    _backdate(
        engine,
        tables.stem_feature_cache,
        entry_id,
        last_accessed_at=sa.func.now() - accessed_ago,
    )


def _backdate(engine: sa.Engine, table: sa.Table, row_id: uuid.UUID, **timestamps) -> None:
    """Set a row's timestamps, stepping around the trigger that keeps ``updated_at`` current."""
    with engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE {table.name} DISABLE TRIGGER USER"))
        connection.execute(sa.update(table).where(table.c.id == row_id).values(**timestamps))
        connection.execute(sa.text(f"ALTER TABLE {table.name} ENABLE TRIGGER USER"))
