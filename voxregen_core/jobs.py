"""Render jobs: status, progress and the rules for moving between statuses."""

import enum
import uuid
from datetime import datetime
from typing import Any

import attrs
from attrs import validators as v

from voxregen_core.params import RenderParams


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    def can_become(self, target: "JobStatus") -> bool:
        """Whether ``queued → running → done | failed`` allows this move."""
        return target in _TRANSITIONS[self]


_TRANSITIONS = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset({JobStatus.DONE, JobStatus.FAILED}),
    JobStatus.DONE: frozenset(),
    JobStatus.FAILED: frozenset(),
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
    singer_profile_id: uuid.UUID
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


@attrs.frozen
class ChunkLedger:
    """Which of a running job's chunks are stored: the record that the workers rendering one
    job's chunks in parallel share (kept in the job's ``progress`` column).

    ``stored`` only grows, so recording a chunk twice (a redelivered message, two workers on
    one chunk) changes nothing but ``generated``. The call that stores the last missing chunk
    is the only one that sees :meth:`record` return ``completed=True``: that worker stitches.
    """

    chunks_total: int = attrs.field(default=0, validator=v.ge(0))
    stored: frozenset[int] = attrs.field(default=frozenset(), converter=frozenset)
    generated: int = attrs.field(default=0, validator=v.ge(0))
    """Chunks generated (not found stored) over every attempt, repeats included."""
    reused: int = attrs.field(default=0, validator=v.ge(0))
    """Chunks found already stored by a previous attempt and recorded without generating."""
    started_at: datetime | None = None
    """When the job's first attempt began rendering."""
    feature_cache_hit: bool | None = None
    """Whether the first attempt found the stem's features cached."""

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
        self, *, chunks_total: int, started_at: datetime, feature_cache_hit: bool
    ) -> "ChunkLedger":
        """This ledger as an attempt finds it when it starts: the chunks recorded so far are
        kept (a resumed job), and the first attempt's start and cache hit; a ledger of another
        chunk count is started over."""
        ledger = (
            self if self.chunks_total == chunks_total else ChunkLedger(chunks_total=chunks_total)
        )
        if ledger.started_at is not None:
            return ledger
        return attrs.evolve(ledger, started_at=started_at, feature_cache_hit=feature_cache_hit)

    def record(self, chunk_index: int, *, generated: bool) -> tuple["ChunkLedger", bool]:
        """This ledger with chunk ``chunk_index`` stored, and whether that completed it."""
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
            "chunks_generated": self.generated,
            "chunks_reused": self.reused,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "feature_cache_hit": self.feature_cache_hit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ChunkLedger":
        """From the ``progress`` column; a row written before the ledger existed has only
        ``chunks_done`` and ``chunks_total`` and reads as nothing stored."""
        started_at = data.get("started_at")
        return cls(
            chunks_total=data.get("chunks_total", 0),
            stored=data.get("chunks_stored", ()),
            generated=data.get("chunks_generated", 0),
            reused=data.get("chunks_reused", 0),
            started_at=None if started_at is None else datetime.fromisoformat(started_at),
            feature_cache_hit=data.get("feature_cache_hit"),
        )
