"""The stem feature cache: one entry per stored feature blob, and the pure rules that use it.

An entry is a row of ``stem_feature_cache``; its blob lives under
``users/{user_id}/feature-cache/{input_hash}/{feature_version}.bin``. The rules:

- Reuse only within one user. An entry serves a request only if the user, the input hash
  (sha256 of the uploaded bytes, see docs/decisions.md) and the feature version all match:
  the same file uploaded by two users is extracted, stored and billed twice, and neither
  can learn from a cache hit that the other uploaded it.
- A feature-version bump invalidates every entry: ``v2`` never reads a ``v1`` blob; the old
  entries simply stop being found and age out.
- Render params are not part of the key, so re-rendering a stem with other params (a job
  clone) always reuses its features and never re-extracts them.
- A hit only moves ``last_accessed_at``. The worker's sweeper evicts entries idle longer than
  a retention period (``VOXREGEN_FEATURE_CACHE_MAX_IDLE_S``), least recently used first,
  except those a job in flight may still read: the entry a queued or running job refers to,
  and every entry of a user whose queued or running job has not looked its features up yet
  (it may be about to hit any of them). A job that misses an evicted entry extracts again.
"""

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime

import attrs
from attrs import validators as v

from voxregen_core import spec
from voxregen_core.errors import InvalidParamsError
from voxregen_core.keys import feature_cache_key


@attrs.frozen
class FeatureCacheEntry:
    """Where one user's features of one input, at one feature version, are stored."""

    id: uuid.UUID = attrs.field(validator=v.instance_of(uuid.UUID))
    user_id: uuid.UUID = attrs.field(validator=v.instance_of(uuid.UUID))
    input_hash: str = attrs.field(validator=v.matches_re(r"[0-9a-f]{64}"))
    feature_version: str = attrs.field(validator=v.matches_re(r"v[0-9]+"))
    sample_rate_hz: int = attrs.field(validator=[v.instance_of(int), v.gt(0)])
    object_key: str = attrs.field(validator=v.instance_of(str))
    duration_s: float = attrs.field(validator=[v.instance_of(int | float), v.ge(0)])
    created_at: datetime = attrs.field(validator=v.instance_of(datetime))
    last_accessed_at: datetime = attrs.field(validator=v.instance_of(datetime))

    @classmethod
    def new(
        cls,
        *,
        user_id: uuid.UUID,
        input_hash: str,
        feature_version: str,
        duration_s: float,
        now: datetime,
    ) -> "FeatureCacheEntry":
        """A fresh entry for features about to be stored, created and last used ``now``."""
        return cls(
            id=uuid.uuid4(),
            user_id=user_id,
            input_hash=input_hash,
            feature_version=feature_version,
            sample_rate_hz=spec.SAMPLE_RATE_HZ,
            object_key=feature_cache_key(user_id, input_hash, feature_version),
            duration_s=duration_s,
            created_at=now,
            last_accessed_at=now,
        )


@attrs.frozen
class JobInFlight:
    """A queued or running render job as the cache sees it: its user, and the entry it refers
    to (``stem_feature_cache_id``), or None while it has not looked its features up yet."""

    user_id: uuid.UUID = attrs.field(validator=v.instance_of(uuid.UUID))
    entry_id: uuid.UUID | None = attrs.field(validator=v.optional(v.instance_of(uuid.UUID)))

    def may_read(self, entry: FeatureCacheEntry) -> bool:
        """Whether this job may still read ``entry``: it refers to it, or it has not looked
        its features up yet and ``entry`` is its user's."""
        if self.entry_id is None:
            return entry.user_id == self.user_id
        return entry.id == self.entry_id


def is_reusable(
    entry: FeatureCacheEntry, *, user_id: uuid.UUID, input_hash: str, feature_version: str
) -> bool:
    """Whether ``entry`` may serve this request: same user, same input and same version."""
    return (entry.user_id, entry.input_hash, entry.feature_version) == (
        user_id,
        input_hash,
        feature_version,
    )


def touched(entry: FeatureCacheEntry, *, now: datetime) -> FeatureCacheEntry:
    """``entry`` after a cache hit at ``now``: only ``last_accessed_at`` changes."""
    return attrs.evolve(entry, last_accessed_at=now)


def evictable(
    entries: Iterable[FeatureCacheEntry],
    *,
    now: datetime,
    max_idle_s: float,
    in_flight: Collection[JobInFlight] = (),
) -> list[FeatureCacheEntry]:
    """Entries unused for more than ``max_idle_s`` seconds, least recently used first.

    An entry that a job of ``in_flight`` (the queued and running jobs) may still read is never
    evictable, however long idle (:meth:`JobInFlight.may_read`). Raises
    :class:`InvalidParamsError` for a negative ``max_idle_s``.
    """
    if not max_idle_s >= 0:
        raise InvalidParamsError(f"max_idle_s must be >= 0 seconds, got {max_idle_s!r}")
    idle = [
        entry
        for entry in entries
        if (now - entry.last_accessed_at).total_seconds() > max_idle_s
        and not any(job.may_read(entry) for job in in_flight)
    ]
    return sorted(idle, key=lambda entry: entry.last_accessed_at)
