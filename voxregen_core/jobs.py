"""Render jobs: status, progress and the rules for moving between statuses."""

import enum
import uuid
from datetime import datetime
from typing import Any

import attrs
from attrs import validators as v

from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.params import RenderParams
from voxregen_core.webhooks import WebhookAttempt, WebhookTarget


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"

    def can_become(self, target: "JobStatus") -> bool:
        """Whether ``queued → running → done | failed``, or a cancel of a queued or running
        job (``→ canceled``), allows this move."""
        return target in _TRANSITIONS[self]

    @property
    def finished(self) -> bool:
        """Done, failed or canceled: the job moves no more."""
        return not _TRANSITIONS[self]


IN_FLIGHT = (JobStatus.QUEUED, JobStatus.RUNNING)
ACTIVE_JOBS_RETRY_AFTER_S = 30.0
"""When a user at the limit of jobs in flight is told to try again: about the least time a job
takes."""
"""The statuses of a job not finished yet: a worker may still read and write what it uses."""

_TRANSITIONS = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.DONE: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


@attrs.frozen
class Progress:
    """How many of a job's chunks are stored."""

    chunks_done: int = attrs.field(default=0, validator=v.ge(0))
    chunks_total: int = attrs.field(default=0, validator=v.ge(0))

    def __attrs_post_init__(self) -> None:
        if self.chunks_done > self.chunks_total:
            raise ValueError(
                f"'chunks_done' must be <= chunks_total={self.chunks_total}: {self.chunks_done}"
            )

    def to_json(self) -> dict[str, int]:
        return {"chunks_done": self.chunks_done, "chunks_total": self.chunks_total}


@attrs.frozen
class RenderJob:
    """One render of one uploaded stem with one singer profile and one set of params."""

    id: uuid.UUID
    user_id: uuid.UUID
    singer_profile_id: uuid.UUID | None
    """None once the profile was deleted (a finished job outlives it)."""
    input_object_key: str
    params: RenderParams = attrs.field(factory=RenderParams)
    status: JobStatus = attrs.field(default=JobStatus.QUEUED, converter=JobStatus)
    progress: Progress = attrs.field(factory=Progress)
    output_object_key: str | None = None
    input_hash: str | None = None
    stem_feature_cache_id: uuid.UUID | None = None
    metrics: dict[str, Any] = attrs.field(factory=dict)
    error_code: str | None = None
    """Why a ``failed`` job failed: a :class:`~voxregen_core.errors.VoxregenError` code."""
    error_message: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    webhook: WebhookTarget | None = None
    """Where the job's webhooks go (:mod:`voxregen_core.webhooks`), if anywhere."""
    webhook_last_attempt: WebhookAttempt | None = None
    chunks_expired_at: datetime | None = None
    """When the retention sweep deleted the job's chunk objects (:mod:`voxregen_core.retention`)."""
    input_expired_at: datetime | None = None
    """When the retention sweep deleted the job's input object (shared by every job on it)."""
    output_expired_at: datetime | None = None
    """When the retention sweep deleted the job's output object."""


@attrs.frozen
class JobDeletion:
    """What deleting a job removes besides its row, as the repository reads it with the rows
    locked: the job, whether another job of its user renders the same input object (a clone
    shares its original's), and the feature-cache entries of its input that no other job of
    its user refers to (by input hash) nor may be about to (a queued or running job that has
    not recorded its entry yet keeps them all, as the eviction sweep does)."""

    job: RenderJob
    input_shared: bool
    feature_cache_entries: list[FeatureCacheEntry]


@attrs.frozen
class ChunkLedger:
    """Which of a running job's chunks are stored: the record that the workers rendering one
    job's chunks in parallel share (kept in the job's ``progress`` column).

    The ledger is pinned to one profile embedding (its
    :attr:`~voxregen_core.profiles.SingerProfile.embedding_fingerprint`): every chunk it lists
    was made with that embedding, so a delivered file comes from exactly one. An attempt that
    starts with another embedding (the profile was rebuilt) or another chunk count starts the
    chunks over (:meth:`begun`), and a chunk made with another embedding is never recorded
    (:meth:`record`).

    ``stored`` only grows while the pin holds, so recording a chunk twice (a redelivered
    message, two workers on one chunk) changes nothing but ``generated``. The call that stores
    the last missing chunk is the only one that sees :meth:`record` return ``completed=True``:
    that worker stitches.
    """

    chunks_total: int = attrs.field(default=0, validator=v.ge(0))
    stored: frozenset[int] = attrs.field(default=frozenset(), converter=frozenset)
    embedding_fingerprint: str | None = None
    """The embedding the listed chunks were made with; None in a row written before pins."""
    generated: int = attrs.field(default=0, validator=v.ge(0))
    """Chunks generated (not found stored) over every attempt, repeats included."""
    reused: int = attrs.field(default=0, validator=v.ge(0))
    """Chunks found already stored by a previous attempt and recorded without generating."""
    started_at: datetime | None = None
    """When the job's first attempt started running, before it decoded the input."""
    feature_cache_hit: bool | None = None
    """Whether the first attempt found the stem's features cached."""
    prepare_stage_ms: dict[str, float] = attrs.field(factory=dict)
    """The first attempt's ``decode`` and ``features`` wall times, in milliseconds: they ran
    in the process that started the job, the delivery in another."""

    def __attrs_post_init__(self) -> None:
        outside = [index for index in self.stored if not 0 <= index < self.chunks_total]
        if outside:
            raise ValueError(f"stored chunks {sorted(outside)} outside 0..{self.chunks_total - 1}")

    @property
    def progress(self) -> Progress:
        return Progress(chunks_done=len(self.stored), chunks_total=self.chunks_total)

    @property
    def complete(self) -> bool:
        return self.chunks_total > 0 and len(self.stored) == self.chunks_total

    def missing(self) -> list[int]:
        return [index for index in range(self.chunks_total) if index not in self.stored]

    def begun(
        self,
        *,
        chunks_total: int,
        embedding_fingerprint: str,
        started_at: datetime,
        feature_cache_hit: bool,
        prepare_stage_ms: dict[str, float],
    ) -> "ChunkLedger":
        """This ledger as an attempt finds it when it starts: the chunks recorded so far are
        kept (a resumed job), and the first attempt's start, cache hit and preparation times.

        A ledger of another chunk count or another embedding is started over: no chunk is
        listed, ``reused`` is zero, and the job's first start, cache hit and preparation
        times (they describe the job, not its chunks: the runtime covers the whole job) and
        the count of chunks generated are kept."""
        ledger = self
        if (self.chunks_total, self.embedding_fingerprint) != (
            chunks_total,
            embedding_fingerprint,
        ):
            ledger = attrs.evolve(
                self,
                chunks_total=chunks_total,
                stored=frozenset(),
                embedding_fingerprint=embedding_fingerprint,
                reused=0,
            )
        if ledger.started_at is not None:
            return ledger
        return attrs.evolve(
            ledger,
            started_at=started_at,
            feature_cache_hit=feature_cache_hit,
            prepare_stage_ms=dict(prepare_stage_ms),
        )

    def record(
        self, chunk_index: int, *, generated: bool, embedding_fingerprint: str
    ) -> tuple["ChunkLedger", bool]:
        """This ledger with chunk ``chunk_index`` stored, and whether that completed it.

        A chunk made with another embedding than the ledger's (the profile was rebuilt while
        it was generated, and another worker started the chunks over) is not recorded: its
        index is dropped instead, since its write may have replaced the chunk listed there.
        The caller sees the ledger's :attr:`embedding_fingerprint` differ from its own, and
        queues the chunk again."""
        if embedding_fingerprint != self.embedding_fingerprint:
            return attrs.evolve(self, stored=self.stored - {chunk_index}), False
        first_time = chunk_index not in self.stored
        ledger = attrs.evolve(
            self,
            stored=self.stored | {chunk_index},
            generated=self.generated + generated,
            reused=self.reused + (first_time and not generated),
        )
        return ledger, first_time and ledger.complete

    def to_json(self) -> dict[str, Any]:
        return {
            **self.progress.to_json(),
            "chunks_stored": sorted(self.stored),
            "embedding_fingerprint": self.embedding_fingerprint,
            "chunks_generated": self.generated,
            "chunks_reused": self.reused,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "feature_cache_hit": self.feature_cache_hit,
            "prepare_stage_ms": dict(self.prepare_stage_ms),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ChunkLedger":
        """From the ``progress`` column; a row written before the ledger existed has only
        ``chunks_done`` and ``chunks_total`` and reads as nothing stored."""
        started_at = data.get("started_at")
        return cls(
            chunks_total=data.get("chunks_total", 0),
            stored=data.get("chunks_stored", ()),
            embedding_fingerprint=data.get("embedding_fingerprint"),
            generated=data.get("chunks_generated", 0),
            reused=data.get("chunks_reused", 0),
            started_at=None if started_at is None else datetime.fromisoformat(started_at),
            feature_cache_hit=data.get("feature_cache_hit"),
            prepare_stage_ms=data.get("prepare_stage_ms", {}),
        )
