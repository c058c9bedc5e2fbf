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
