"""In-memory fakes of the core's ports, for unit tests. The contract suites in
tests/contracts run against these and the real adapters alike, so they cannot drift."""

import io
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import attrs
import numpy as np

from voxregen_adapters.request_context import current_request_id
from voxregen_adapters.url_signing import check_expires_s
from voxregen_core.errors import ObjectNotFoundError
from voxregen_core.feature_cache import FeatureCacheEntry, touched
from voxregen_core.generator import ChunkFeatures
from voxregen_core.jobs import Progress
from voxregen_core.keys import parse_key
from voxregen_core.messages import (
    JobMessage,
    ProfileBuildMessage,
    RenderChunkMessage,
    RenderJobMessage,
    WebhookDeliveryMessage,
)
from voxregen_core.params import RenderParams
from voxregen_core.profiles import SingerProfile

MessageT = TypeVar("MessageT", bound=JobMessage)


class InMemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        parse_key(key)
        self.objects[key] = bytes(data)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        parse_key(key)
        self.objects[key] = b"".join(chunks)  # a chunk that raises stores nothing

    def get(self, key: str) -> bytes:
        parse_key(key)
        try:
            return self.objects[key]
        except KeyError:
            raise ObjectNotFoundError(f"no object under {key}") from None

    def open(self, key: str) -> io.BytesIO:
        return io.BytesIO(self.get(key))

    def exists(self, key: str) -> bool:
        parse_key(key)
        return key in self.objects

    def size(self, key: str) -> int:
        return len(self.get(key))

    def delete(self, key: str) -> None:
        parse_key(key)
        self.objects.pop(key, None)

    def list(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def move(self, source_key: str, key: str) -> None:
        data = self.get(source_key)
        self.put(key, data)
        del self.objects[source_key]

    def presigned_put_url(self, key: str, *, expires_s: int) -> str:
        return self._presigned_url("PUT", key, expires_s)

    def presigned_get_url(self, key: str, *, expires_s: int) -> str:
        return self._presigned_url("GET", key, expires_s)

    def _presigned_url(self, method: str, key: str, expires_s: int) -> str:
        """A URL nothing serves, but validated like the real ones."""
        parse_key(key)
        check_expires_s(expires_s)
        return f"memory://objects/{key}?method={method}&expires_s={expires_s}"


class InMemoryFeatureCacheRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, str, str], FeatureCacheEntry] = {}

    def find(
        self, *, user_id: uuid.UUID, input_hash: str, feature_version: str
    ) -> FeatureCacheEntry | None:
        return self.rows.get((user_id, input_hash, feature_version))

    def add(self, entry: FeatureCacheEntry) -> FeatureCacheEntry:
        return self.rows.setdefault((entry.user_id, entry.input_hash, entry.feature_version), entry)

    def touch(self, entry: FeatureCacheEntry, *, accessed_at: datetime) -> None:
        row_key = (entry.user_id, entry.input_hash, entry.feature_version)
        stored = self.rows.get(row_key)
        if stored is not None and stored.id == entry.id:
            self.rows[row_key] = touched(stored, now=accessed_at)


class SteppingClock:
    """Starts at a fixed time and moves one second per reading."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._now = start

    def now(self) -> datetime:
        self._now += timedelta(seconds=1)
        return self._now


class SetClock:
    """Shows the time it was set to (timezone-aware UTC) until it is set again: the tests of
    what depends on the date (the retention sweep) move it days at a time."""

    def __init__(self, now: datetime) -> None:
        self.time = now

    def now(self) -> datetime:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += timedelta(seconds=seconds)


class RecordingProgress:
    def __init__(self) -> None:
        self.reports: list[Progress] = []

    def report(self, progress: Progress) -> None:
        self.reports.append(progress)


class IdentityGenerator:
    """Returns each chunk's input audio unchanged; counts calls."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        self.calls.append(features.chunk_index)
        return features.audio.copy()


class GeneratorCrash(Exception):
    """Stands in for a worker dying mid-render."""


class CrashingGenerator(IdentityGenerator):
    """Identity generator that raises on the chunk with index ``crash_at``."""

    def __init__(self, crash_at: int) -> None:
        super().__init__()
        self.crash_at = crash_at

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        if features.chunk_index == self.crash_at:
            raise GeneratorCrash(f"crash at chunk {self.crash_at}")
        return super().generate_chunk(features, singer_profile, params)


class NaNGenerator(IdentityGenerator):
    """Returns NaN for every sample of every chunk (a model gone numerically wrong); counts
    calls."""

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        return np.full_like(super().generate_chunk(features, singer_profile, params), np.nan)


class InMemoryJobQueue:
    """Records each message, typed, in order, with the request id in hand if it has none (as
    DramatiqJobQueue stamps it); refuses what DramatiqJobQueue refuses (the message classes
    check their fields)."""

    def __init__(self) -> None:
        self.messages: list[JobMessage] = []
        self.delays_s: list[float] = []
        """The delay of each webhook delivery queued, in order."""

    def enqueue_profile_build(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
        self._record(ProfileBuildMessage(user_id=user_id, profile_id=profile_id))

    def enqueue_render_job(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        self._record(RenderJobMessage(user_id=user_id, job_id=job_id))

    def enqueue_webhook_delivery(
        self, message: WebhookDeliveryMessage, *, delay_s: float = 0.0
    ) -> None:
        self._record(message)
        self.delays_s.append(delay_s)

    def enqueue_render_chunk(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, chunk_index: int
    ) -> None:
        self._record(RenderChunkMessage(user_id=user_id, job_id=job_id, chunk_index=chunk_index))

    def _record(self, message: JobMessage) -> None:
        if message.request_id is None:
            message = attrs.evolve(message, request_id=current_request_id())
        self.messages.append(message)

    def enqueue_spare_render_turn(self) -> int:
        """0: nothing waits for a turn here (the tests run the recorded messages themselves)."""
        return 0

    def of_type(self, message_type: type[MessageT]) -> list[MessageT]:
        """The recorded messages of one type, in order."""
        return [message for message in self.messages if isinstance(message, message_type)]
