"""What the API answers, as frozen attrs classes built by named constructors
(``Job.from_json``). Fields the API may add later are ignored, so an older client keeps
working against a newer service. Ids are strings (UUIDs as the API writes them), times are
timezone-aware :class:`~datetime.datetime`.
"""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from voxregen_client.errors import UnexpectedResponseError

T = TypeVar("T")

PROFILE_STATUSES = ("building", "ready", "error")
JOB_STATUSES = ("queued", "running", "done", "failed", "canceled")
FINISHED_JOB_STATUSES = frozenset({"done", "failed", "canceled"})


def _parser(from_json: Callable[..., T]) -> Callable[..., T]:
    """A ``from_json`` whose answer not in the API's shape (a field missing or of another
    type: a service that is not voxregen's) raises :class:`UnexpectedResponseError`."""

    @functools.wraps(from_json)
    def parse(cls: type, data: Any, *args: Any) -> T:
        try:
            return from_json(cls, data, *args)
        except (KeyError, TypeError, ValueError) as error:
            raise UnexpectedResponseError(
                f"the service's answer is not a voxregen {cls.__name__}: {error!r}"
            ) from None

    return parse


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@attrs.frozen
class Reference:
    """A reference clip of a profile; ``duration_sec`` as the build measured it."""

    id: str
    object_key: str
    duration_sec: float
    accepted: bool
    quality_metrics: dict[str, Any]
    created_at: datetime

    @classmethod
    @_parser
    def from_json(cls, data: dict[str, Any]) -> "Reference":
        return cls(
            id=data["id"],
            object_key=data["object_key"],
            duration_sec=float(data["duration_sec"]),
            accepted=data["accepted"],
            quality_metrics=data["quality_metrics"],
            created_at=datetime.fromisoformat(data["created_at"]),
        )


@attrs.frozen
class Profile:
    """A singer profile: ``status`` is one of :data:`PROFILE_STATUSES`."""

    id: str
    name: str
    status: str
    embedding_version: str | None
    stats: dict[str, Any]
    references: tuple[Reference, ...]
    created_at: datetime
    updated_at: datetime

    @classmethod
    @_parser
    def from_json(cls, data: dict[str, Any]) -> "Profile":
        return cls(
            id=data["id"],
            name=data["name"],
            status=data["status"],
            embedding_version=data["embedding_version"],
            stats=data["stats"],
            references=tuple(Reference.from_json(ref) for ref in data["references"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
        )


@attrs.frozen
class Progress:
    chunks_done: int
    chunks_total: int


@attrs.frozen
class JobError:
    """Why a failed job failed: a stable ``code`` (``not_a_wav``, ``input_too_long``, …)."""

    code: str
    message: str


@attrs.frozen
class Job:
    """A render job: ``status`` is one of :data:`JOB_STATUSES`; ``error`` is set when it
    ``failed``; ``metrics`` once it is ``done``."""

    id: str
    status: str
    singer_profile_id: str | None
    input_object_key: str
    output_object_key: str | None
    params: dict[str, Any]
    progress: Progress
    metrics: dict[str, Any]
    error: JobError | None
    input_hash: str | None
    stem_feature_cache_id: str | None
    webhook: dict[str, Any] | None
    input_expired_at: datetime | None
    output_expired_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def finished(self) -> bool:
        """Done, failed or canceled: the job changes no more."""
        return self.status in FINISHED_JOB_STATUSES

    @classmethod
    @_parser
    def from_json(cls, data: dict[str, Any]) -> "Job":
        error = data["error"]
        return cls(
            id=data["id"],
            status=data["status"],
            singer_profile_id=data["singer_profile_id"],
            input_object_key=data["input_object_key"],
            output_object_key=data["output_object_key"],
            params=data["params"],
            progress=Progress(
                chunks_done=data["progress"]["chunks_done"],
                chunks_total=data["progress"]["chunks_total"],
            ),
            metrics=data["metrics"],
            error=None if error is None else JobError(code=error["code"], message=error["message"]),
            input_hash=data["input_hash"],
            stem_feature_cache_id=data["stem_feature_cache_id"],
            webhook=data["webhook"],
            input_expired_at=_time(data["input_expired_at"]),
            output_expired_at=_time(data["output_expired_at"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
        )


@attrs.frozen
class Page(Generic[T]):
    """One page of a list, newest first; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None

    @classmethod
    @_parser
    def from_json(cls, data: dict[str, Any], item: Callable[[dict[str, Any]], T]) -> "Page[T]":
        return cls(
            items=tuple(item(each) for each in data["items"]), next_cursor=data["next_cursor"]
        )
