"""The core's ports: what the pipeline needs from the world, as structural Protocols.

Adapters (``voxregen_adapters``) satisfy these without inheriting from them; tests use the
in-memory fakes in ``tests/fakes.py``. A contract suite runs against every implementation.
"""

import uuid
from datetime import datetime
from typing import Protocol, runtime_checkable

from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.generator import Generator
from voxregen_core.jobs import Progress

__all__ = [
    "Clock",
    "FeatureCacheRepository",
    "Generator",
    "JobQueue",
    "JsonPrimitive",
    "ObjectStore",
    "ProgressReporter",
]


@runtime_checkable
class ObjectStore(Protocol):
    """Bytes under storage keys built by :mod:`voxregen_core.keys`.

    A put is atomic: a reader sees the old object, the new one, or none, never a part.
    """

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any object there."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises :class:`~voxregen_core.errors.ObjectNotFoundError`."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        ...

    def presigned_put_url(self, key: str, *, expires_s: int) -> str:
        """A URL that lets a plain HTTP PUT of the body store it under ``key`` (and nowhere
        else) until ``expires_s`` seconds from now."""
        ...

    def presigned_get_url(self, key: str, *, expires_s: int) -> str:
        """A URL that lets a plain HTTP GET read ``key`` until ``expires_s`` seconds from now."""
        ...


@runtime_checkable
class FeatureCacheRepository(Protocol):
    """Rows of ``stem_feature_cache``; every method is scoped by ``user_id``."""

    def find(
        self, *, user_id: uuid.UUID, input_hash: str, feature_version: str
    ) -> FeatureCacheEntry | None:
        """The user's entry for this input and feature version, if any."""
        ...

    def add(self, entry: FeatureCacheEntry) -> FeatureCacheEntry:
        """Insert ``entry``; if the user already has one for the same input hash and feature
        version (a concurrent render won), return that one instead."""
        ...

    def touch(self, entry: FeatureCacheEntry, *, accessed_at: datetime) -> None:
        """Record a cache hit: set the entry's ``last_accessed_at`` (scoped by its user_id)."""
        ...


JsonPrimitive = str | int | float | bool | None


@runtime_checkable
class JobQueue(Protocol):
    """Carries work from the API to the workers. Messages name an actor and carry ids and keys
    only (JSON primitives), never audio."""

    def enqueue(self, actor_name: str, *args: JsonPrimitive) -> None:
        """Queue one message for ``actor_name``; raises InvalidParamsError for a non-primitive
        argument or an unknown actor."""
        ...


@runtime_checkable
class ProgressReporter(Protocol):
    """Receives a job's progress after every chunk is stored (or found stored)."""

    def report(self, progress: Progress) -> None: ...


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...
