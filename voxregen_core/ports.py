"""The core's ports: what the pipeline needs from the world, as structural Protocols.

Adapters (``voxregen_adapters``) satisfy these without inheriting from them; tests use the
in-memory fakes in ``tests/fakes.py``. A contract suite runs against every implementation.
"""

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, BinaryIO, Protocol, runtime_checkable

import numpy as np

from voxregen_core.api_keys import ApiKey
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.generator import ChunkFeatures, Device
from voxregen_core.idempotency import IdempotencyClaim, StoredAnswer
from voxregen_core.jobs import ChunkLedger, JobDeletion, JobStatus, Progress, RenderJob
from voxregen_core.messages import WebhookDeliveryMessage
from voxregen_core.pagination import PageRequest
from voxregen_core.params import RenderParams
from voxregen_core.profiles import (
    ProfileDeletion,
    ProfileStatus,
    SingerExemplar,
    SingerProfile,
    SingerReference,
)
from voxregen_core.retention import RetentionPolicy
from voxregen_core.webhooks import WebhookAttempt

__all__ = [
    "Clock",
    "FeatureCacheEviction",
    "FeatureCacheRepository",
    "Generator",
    "GeneratorFactory",
    "HealthCheck",
    "JobQueue",
    "ObjectStore",
    "ProgressReporter",
    "RenderJobRepository",
    "RetentionSweep",
    "SingerExemplarRepository",
    "SingerProfileRepository",
    "SingerReferenceRepository",
    "ServicePorts",
]


@runtime_checkable
class ObjectStore(Protocol):
    """Bytes under storage keys built by :mod:`voxregen_core.keys`.

    A put is atomic: a reader sees the old object, the new one, or none, never a part.
    """

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing any object there."""
        ...

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        """Store ``chunks``, end to end, under ``key``, replacing any object there once the
        last is in, and holding one chunk in memory at a time (an upload as it arrives). If
        iterating ``chunks`` raises, the error propagates and ``key`` keeps what it held."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises :class:`~voxregen_core.errors.ObjectNotFoundError`."""
        ...

    def open(self, key: str) -> AbstractContextManager[BinaryIO]:
        """The object as a seekable binary file, read-only, never loaded into memory whole (a
        737 MB stem): ``with store.open(key) as file: ...`` raises
        :class:`~voxregen_core.errors.ObjectNotFoundError` for a missing key; leaving the
        ``with`` closes the file."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def size(self, key: str) -> int:
        """The object's size in bytes; raises
        :class:`~voxregen_core.errors.ObjectNotFoundError`."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        ...

    def move(self, source_key: str, key: str) -> None:
        """Move the object under ``source_key`` to ``key``, replacing any object there (stored
        as if put under ``key``: tagged with its class). Raises
        :class:`~voxregen_core.errors.ObjectNotFoundError` if ``source_key`` holds none. A
        reader of ``key`` sees the old object or the whole new one; a move cut short may leave
        the object under both keys, never under neither."""
        ...

    def presigned_put_url(self, key: str, *, expires_s: int) -> str:
        """A URL that lets a plain HTTP PUT of the body store it under ``key`` (and nowhere
        else) until ``expires_s`` seconds from now."""
        ...

    def presigned_get_url(self, key: str, *, expires_s: int) -> str:
        """A URL that lets a plain HTTP GET read ``key`` until ``expires_s`` seconds from now."""
        ...


@runtime_checkable
class Generator(Protocol):
    """Regenerates one chunk of a vocal in a singer's voice: the model integration interface.

    The contract for implementers (shapes, determinism, overlap, device, failure) is in
    :mod:`voxregen_core.generator`, with the values it is given.
    """

    @property
    def device(self) -> Device:
        """The device this generator was built for."""
        ...

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        """Audio for ``features.audio``'s chunk: np.ndarray [shape=(n_samples,)], float32, 48 kHz."""
        ...


GeneratorFactory = Callable[[Device], Generator]
"""Builds a generator for a device: the worker calls it once, at start, with its setting."""


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


@runtime_checkable
class FeatureCacheEviction(Protocol):
    """The retention sweep of ``stem_feature_cache``, over every user's entries."""

    def evict_idle(
        self,
        *,
        now: datetime,
        max_idle_s: float,
        limit: int,
        delete_blob: Callable[[str], None],
    ) -> list[FeatureCacheEntry]:
        """Evict up to ``limit`` entries of any user that
        :func:`~voxregen_core.feature_cache.evictable` chooses at ``now``: unused for more than
        ``max_idle_s`` seconds, and not readable by a queued or running job. Each one is
        checked again with its row locked, then ``delete_blob`` is called with its object key,
        then its row is deleted (``render_jobs.stem_feature_cache_id`` becomes null); if
        ``delete_blob`` raises, that row and the ones after it stay and the error propagates.
        Returns the evicted entries, least recently used first."""
        ...


@runtime_checkable
class RetentionSweep(Protocol):
    """The retention sweep of render jobs' objects (:mod:`voxregen_core.retention`), over every
    user's jobs.

    Each method takes up to ``limit`` of what the policy chooses at ``now``, oldest job first,
    one at a time: with the rows concerned locked (a row another transaction holds is passed
    by, for a later pass), it asks the policy again, calls the deletion it was given, then
    records the deletion on the rows, so that no sweep chooses it again. If the deletion raises,
    nothing is recorded for that one and the ones after it, and the error propagates; deleting
    objects that are gone already is not an error, so a deletion interrupted before it was
    recorded is done again by the next pass."""

    def expire_chunks(
        self,
        *,
        now: datetime,
        policy: RetentionPolicy,
        limit: int,
        delete_chunks: Callable[[RenderJob], None],
    ) -> list[RenderJob]:
        """Delete the chunks of the jobs :func:`~voxregen_core.retention.chunks_expire` chooses
        (``delete_chunks`` is called with each job) and set their ``chunks_expired_at`` to
        ``now``; the jobs, as they were before."""
        ...

    def expire_outputs(
        self,
        *,
        now: datetime,
        policy: RetentionPolicy,
        limit: int,
        delete_object: Callable[[str], None],
    ) -> list[RenderJob]:
        """Delete the outputs :func:`~voxregen_core.retention.output_expires` chooses
        (``delete_object`` is called with each output key) and set their jobs'
        ``output_expired_at`` to ``now``; the jobs, as they were before."""
        ...

    def expire_inputs(
        self,
        *,
        now: datetime,
        policy: RetentionPolicy,
        limit: int,
        delete_object: Callable[[str], None],
    ) -> list[str]:
        """Delete the inputs :func:`~voxregen_core.retention.input_expires` chooses, judged from
        their users' jobs read with every job on the input locked (``delete_object`` is called
        with each input key), and set ``input_expired_at`` to ``now`` on every job on each;
        the input keys deleted. A job added on an input while it is being deleted waits for
        the deletion and is refused (:meth:`RenderJobRepository.add`)."""
        ...


@runtime_checkable
class SingerProfileRepository(Protocol):
    """Rows of ``singer_profiles``. Every method is scoped by ``user_id``: another user's
    profile is indistinguishable from a missing one."""

    def add(self, profile: SingerProfile) -> SingerProfile:
        """Insert ``profile`` for ``profile.user_id``; return it as stored (with the server's
        ``created_at``/``updated_at``). Raises :class:`~voxregen_core.errors.ConflictError` if
        its id is taken."""
        ...

    def get(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> SingerProfile | None:
        """The user's profile, or None."""
        ...

    def list_page(self, *, user_id: uuid.UUID, page: PageRequest) -> list[SingerProfile]:
        """The user's profiles newest first (``created_at DESC, id DESC``), after
        ``page.after``, ``page.limit + 1`` at most (:func:`~voxregen_core.pagination.page_of`)."""
        ...

    def set_status(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        status: ProfileStatus,
        stats: Mapping[str, Any] | None = None,
    ) -> bool:
        """Set the status (a reference committed again, a build given up on) and, if given,
        replace the stats (why it was given up on); False if the user has no such profile."""
        ...

    def record_build(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        built_from: Collection[uuid.UUID],
        embedding_version: str,
        profile_embedding: bytes,
        cluster_embeddings: bytes,
        stats: Mapping[str, Any],
        exemplars: Sequence[SingerExemplar],
    ) -> bool:
        """Store a finished build (its embeddings, its stats, and ``exemplars`` in place of
        the profile's) and mark the profile ``ready``, in one transaction, if the profile's
        references are still exactly ``built_from`` (the ids of those the build read). A
        reference committed or deleted since marked the profile ``building`` and queued the
        build that will see it: this one is out of date, and ``ready`` would speak for a clip
        it never analysed. False, changing nothing, if it is out of date or the user has no
        such profile. Raises :class:`~voxregen_core.errors.NotFoundError`, changing nothing,
        if an exemplar is of another profile or cut from a reference not in ``built_from``."""
        ...

    def record_build_failure(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        built_from: Collection[uuid.UUID],
        stats: Mapping[str, Any],
    ) -> bool:
        """Mark the profile ``error`` with ``stats`` (why its build failed) and no exemplars,
        in one transaction, if its references are still exactly ``built_from``, as
        :meth:`record_build`; False, changing nothing, if not or if the user has no such
        profile."""
        ...

    def forget_build(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> bool:
        """Back to a new profile's state: ``building``, no embedding, empty stats (its last
        reference was deleted, and with it what the embedding was built from); False if the
        user has no such profile."""
        ...

    def delete(
        self,
        *,
        user_id: uuid.UUID,
        profile_id: uuid.UUID,
        delete_objects: Callable[[ProfileDeletion], None],
    ) -> bool:
        """Delete the user's profile with its references and exemplars; its finished jobs stay,
        their ``singer_profile_id`` set to null. False if the user has no such profile. With
        the row locked, ``delete_objects`` is called first (it may refuse by raising: nothing
        is deleted then), as :meth:`RenderJobRepository.delete` does."""
        ...

    def claim_stalled(self, *, unchanged_since: datetime, limit: int) -> list[SingerProfile]:
        """Up to ``limit`` building profiles of any user that have at least one reference
        and whose row has not changed since ``unchanged_since``, marked changed now so that
        another call does not claim them again: the worker's recovery of builds whose
        messages were lost. A profile with no reference has nothing to build (it waits for
        its first commit), so it is never claimed."""
        ...


@runtime_checkable
class SingerReferenceRepository(Protocol):
    """Rows of ``singer_references``; every method is scoped by ``user_id``."""

    def add(self, reference: SingerReference) -> SingerReference:
        """Insert ``reference`` for ``reference.user_id`` and mark its profile ``building``, in
        one transaction (a profile is never ``ready`` with a reference no build has read:
        :meth:`SingerProfileRepository.record_build`); return it as stored. Raises
        :class:`~voxregen_core.errors.NotFoundError` if that user has no profile
        ``reference.singer_profile_id``, :class:`~voxregen_core.errors.ConflictError` if the
        id is taken."""
        ...

    def get(self, *, user_id: uuid.UUID, reference_id: uuid.UUID) -> SingerReference | None:
        """The user's reference, or None."""
        ...

    def list_for_profile(
        self, *, user_id: uuid.UUID, profile_id: uuid.UUID
    ) -> list[SingerReference]:
        """The references of the user's profile, oldest first (empty for another user's)."""
        ...

    def list_page(
        self, *, user_id: uuid.UUID, profile_id: uuid.UUID, page: PageRequest
    ) -> list[SingerReference]:
        """The references of the user's profile newest first, as
        :meth:`SingerProfileRepository.list_page` pages profiles."""
        ...

    def delete(
        self,
        *,
        user_id: uuid.UUID,
        reference_id: uuid.UUID,
        delete_object: Callable[[SingerReference], None],
    ) -> SingerReference | None:
        """Delete the user's reference and the exemplars built from it, and mark its profile
        ``building``, in one transaction (as :meth:`add`); the reference as it was, or None if
        the user has no such reference. With the row locked, ``delete_object`` is called
        first (as :meth:`RenderJobRepository.delete` does)."""
        ...

    def record_quality(
        self,
        *,
        user_id: uuid.UUID,
        reference_id: uuid.UUID,
        quality_metrics: Mapping[str, Any],
        accepted: bool,
        duration_s: float | None = None,
    ) -> bool:
        """Store a reference's quality check and, if given, its duration as measured from the
        decoded clip (replacing the client's); False if the user has no such reference."""
        ...


@runtime_checkable
class SingerExemplarRepository(Protocol):
    """Rows of ``singer_exemplars``, scoped by the ``user_id`` of the profile they belong to.
    A build writes them with the profile (:meth:`SingerProfileRepository.record_build`)."""

    def list_for_profile(
        self, *, user_id: uuid.UUID, profile_id: uuid.UUID
    ) -> list[SingerExemplar]:
        """The exemplars of the user's profile, oldest first (empty for another user's)."""
        ...


@runtime_checkable
class RenderJobRepository(Protocol):
    """Rows of ``render_jobs``; every method is scoped by ``user_id``.

    Status moves only along ``queued → running → done | failed``, each move a compare-and-set
    on the current status, so two workers can never both take a job.
    """

    def add(self, job: RenderJob) -> RenderJob:
        """Insert ``job`` for ``job.user_id``; return it as stored. Raises
        :class:`~voxregen_core.errors.NotFoundError` if that user has no profile
        ``job.singer_profile_id`` (or no feature-cache entry ``job.stem_feature_cache_id``),
        :class:`~voxregen_core.errors.ConflictError` if the id is taken,
        :class:`~voxregen_core.errors.TooManyActiveJobsError` if ``job`` is in flight and its
        user already has as many jobs in flight as the service allows
        (``VOXREGEN_MAX_ACTIVE_JOBS_PER_USER``), counted atomically with the insert, and
        :class:`~voxregen_core.errors.InputExpiredError` if the user's jobs on
        ``job.input_object_key`` record it deleted by the retention sweep (the insert holds
        those rows locked, so it either waits for a sweep deleting the input and is refused,
        or the sweep sees the new job and keeps the input)."""
        ...

    def get(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> RenderJob | None:
        """The user's job, or None."""
        ...

    def list_page(
        self,
        *,
        user_id: uuid.UUID,
        page: PageRequest,
        status: JobStatus | None = None,
        singer_profile_id: uuid.UUID | None = None,
    ) -> list[RenderJob]:
        """The user's jobs newest first, only those with ``status`` and of
        ``singer_profile_id`` when given, as :meth:`SingerProfileRepository.list_page` pages
        profiles."""
        ...

    def transition(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        from_status: JobStatus,
        to_status: JobStatus,
        input_hash: str | None = None,
        stem_feature_cache_id: uuid.UUID | None = None,
        output_object_key: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> bool:
        """Move the job from ``from_status`` to ``to_status`` if it is still in
        ``from_status``, setting the given fields with it; True if this call moved it.

        Fields left None keep their value. ``output_object_key`` goes only with ``done``,
        ``error_code`` and ``error_message`` only (and always) with ``failed``. Raises
        :class:`~voxregen_core.errors.InvalidParamsError` for a move the status rules refuse
        or a field that does not go with ``to_status``, and
        :class:`~voxregen_core.errors.NotFoundError` if ``stem_feature_cache_id`` is not one
        of the user's feature-cache entries."""
        ...

    def update_progress(self, *, user_id: uuid.UUID, job_id: uuid.UUID, progress: Progress) -> bool:
        """Set the progress of the user's running job; False if no such job is running."""
        ...

    def begin_chunks(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        input_hash: str,
        stem_feature_cache_id: uuid.UUID,
        chunks_total: int,
        embedding_fingerprint: str,
        started_at: datetime,
        feature_cache_hit: bool,
        prepare_stage_ms: Mapping[str, float],
    ) -> ChunkLedger | None:
        """Record the running job's input hash, feature-cache entry, chunk count and the
        embedding it renders with, keeping the chunks already recorded (a resumed job) unless
        the count or the embedding changed (:meth:`ChunkLedger.begun`), and the first
        ``started_at``, ``feature_cache_hit`` and ``prepare_stage_ms`` (milliseconds); return
        its ledger, or None if the user has no such running job."""
        ...

    def record_chunk(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        chunk_index: int,
        generated: bool,
        embedding_fingerprint: str,
    ) -> tuple[ChunkLedger, bool] | None:
        """Record chunk ``chunk_index`` of the running job, made with the embedding
        ``embedding_fingerprint``, as stored, atomically (the row is locked): the new ledger
        and whether this call completed it, which exactly one call per job sees. A chunk of
        another embedding than the ledger's is not recorded (:meth:`ChunkLedger.record`).
        None if the user has no such running job."""
        ...

    def ledger(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> ChunkLedger | None:
        """The user's job's chunk ledger, or None."""
        ...

    def delete(
        self,
        *,
        user_id: uuid.UUID,
        job_id: uuid.UUID,
        delete_objects: Callable[[JobDeletion], None],
    ) -> bool:
        """Delete the user's job and the feature-cache rows it alone refers to; False if it has
        no such job. With the job's row locked, ``delete_objects`` is called first, to delete
        the objects (:class:`~voxregen_core.jobs.JobDeletion`): if it raises, nothing is
        deleted from the database, so no object outlives its row and a retry finishes."""
        ...

    def record_webhook_attempt(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, attempt: WebhookAttempt
    ) -> bool:
        """Keep ``attempt`` as the job's last webhook attempt; False if the user has no such
        job (deleted meanwhile)."""
        ...

    def claim_progress_notice(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, now: datetime, interval_s: float
    ) -> bool:
        """Whether a ``progress`` webhook may go now: True (and ``now`` recorded) if none went
        in the last ``interval_s``, atomically, so that workers sending notices at once send
        one."""
        ...

    def claim_stalled(self, *, unchanged_since: datetime, limit: int) -> list[RenderJob]:
        """Up to ``limit`` queued or running jobs of any user whose row has not changed since
        ``unchanged_since``, marked changed now so that another call does not claim them
        again: the worker's recovery of jobs whose messages were lost."""
        ...

    def count_by_status(self) -> dict[JobStatus, int]:
        """How many jobs of all users are in each status (every status present, 0 for none):
        the operator's gauge, which names no job and no user. Raises
        :class:`~voxregen_core.errors.DatabaseUnavailableError` if the count cannot be made in
        a couple of seconds."""
        ...


@runtime_checkable
class IdempotencyKeyRepository(Protocol):
    """Rows of ``idempotency_keys`` (:mod:`voxregen_core.idempotency`); scoped by ``user_id``."""

    def claim(
        self, *, user_id: uuid.UUID, key: str, fingerprint: str, now: datetime
    ) -> IdempotencyClaim:
        """Claim the user's ``key`` for a request with ``fingerprint``, atomically: a
        :class:`~voxregen_core.idempotency.Claimed` if it was free or its claim older than
        ``IN_FLIGHT_TIMEOUT_S`` was never answered, a
        :class:`~voxregen_core.idempotency.Replay` if the same request was answered. Raises
        :class:`~voxregen_core.idempotency.IdempotencyKeyReusedError` if it is another
        request's, :class:`~voxregen_core.idempotency.IdempotencyKeyInUseError` while the same
        request is in flight."""
        ...

    def answer(self, *, user_id: uuid.UUID, key: str, answer: StoredAnswer) -> None:
        """Store the answer to the request that claimed ``key``."""
        ...

    def release(self, *, user_id: uuid.UUID, key: str) -> None:
        """Drop an unanswered claim (its request failed with a 5xx): a retry runs again."""
        ...

    def expire(self, *, created_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` keys of any user claimed before ``created_before``; how
        many (the sweep of keys past their retention)."""
        ...


@runtime_checkable
class ApiKeyRepository(Protocol):
    """Rows of ``api_keys`` (:mod:`voxregen_core.api_keys`): digests, never keys."""

    def add(self, row: ApiKey) -> ApiKey:
        """Insert ``row``; the row as stored (with ``created_at``)."""
        ...

    def list_for_user(self, *, user_id: uuid.UUID) -> list[ApiKey]:
        """The user's keys, revoked ones included, oldest first."""
        ...

    def find_by_digest(self, digest: str) -> ApiKey | None:
        """The key, of any user, whose digest is ``digest``."""
        ...

    def revoke(self, *, key_id: uuid.UUID, now: datetime) -> ApiKey | None:
        """Mark the key revoked at ``now`` (a key revoked before keeps its time); the row, or
        None if there is no such key."""
        ...

    def touch(self, *, key_id: uuid.UUID, now: datetime, resolution_s: float) -> None:
        """Set ``last_used_at`` to ``now`` unless it is within ``resolution_s`` of it."""
        ...


@runtime_checkable
class RateLimiter(Protocol):
    """A request-rate limit per user, shared by every API process."""

    def wait_s(self, *, user_id: uuid.UUID) -> float:
        """Take one of the user's tokens: 0.0 if there was one (the request may go), else the
        seconds until there will be (the request is refused and takes nothing)."""
        ...


@runtime_checkable
class WebhookSecretRepository(Protocol):
    """Each user's webhook signing secret (``webhook_secrets``)."""

    def secret_for(self, *, user_id: uuid.UUID) -> str:
        """The user's secret, made (:func:`~voxregen_core.webhooks.new_secret`) the first time."""
        ...


@runtime_checkable
class WebhookSender(Protocol):
    """POSTs webhooks over HTTP, and decides which URLs it may reach."""

    def check_url(self, url: str) -> None:
        """Raise :class:`~voxregen_core.webhooks.InvalidWebhookUrlError` for a URL that is not
        http(s) or (unless private networks are allowed) resolves to a loopback, private,
        link-local or metadata address."""
        ...

    def post(
        self, url: str, *, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int | None, str | None]:
        """POST once (no redirects followed, a bounded wait and a bounded answer): the answer's
        status (None if none came) and what went wrong (None for a 2xx)."""
        ...


@runtime_checkable
class JobQueue(Protocol):
    """Carries work from the API (and the worker's fan-out and sweeper) to the workers: one
    method per message of :mod:`voxregen_core.messages`, each carrying ids only, never audio.
    How a message is named and encoded on the wire is the adapter's business alone.

    Render work (a job's start, a chunk) reaches the workers in the order of the fair share
    between users (:mod:`voxregen_core.fair_share`), not in the order queued: one user's
    backlog holds back another's job by no more than the turns already running.

    Every method builds its message first, so an argument of the wrong type raises
    :class:`~voxregen_core.errors.InvalidParamsError` and nothing is queued; a queue that
    cannot be reached raises :class:`~voxregen_core.errors.QueueUnavailableError`."""

    def enqueue_profile_build(self, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
        """Queue a :class:`~voxregen_core.messages.ProfileBuildMessage`: build the user's
        profile from its references."""
        ...

    def enqueue_render_job(self, *, user_id: uuid.UUID, job_id: uuid.UUID) -> None:
        """Queue a :class:`~voxregen_core.messages.RenderJobMessage`: start or resume the
        user's render job."""
        ...

    def enqueue_webhook_delivery(
        self, message: WebhookDeliveryMessage, *, delay_s: float = 0.0
    ) -> None:
        """Queue one attempt of a webhook delivery, ``delay_s`` from now."""
        ...

    def enqueue_render_chunk(
        self, *, user_id: uuid.UUID, job_id: uuid.UUID, chunk_index: int
    ) -> None:
        """Queue a :class:`~voxregen_core.messages.RenderChunkMessage`: make chunk
        ``chunk_index`` (an integer >= 0) of the user's running render job."""
        ...

    def enqueue_spare_render_turn(self) -> int:
        """If render work waits, give the workers one more turn at it, and return how many
        units wait (0: nothing was queued). The sweeper's repair for a unit whose own turn
        was lost (a process that died between queuing the two); a spare turn with nothing
        left to take does nothing."""
        ...


@runtime_checkable
class HealthCheck(Protocol):
    """One dependency of the service (the database, the queue's Redis, the object store),
    probed by ``GET /readyz``."""

    name: str
    """The dependency's name in the readiness report (``database``, ``redis``, ``storage``)."""

    def check(self) -> None:
        """Return if the dependency answers now, within a few seconds; raise the port error
        of the dependency (:class:`~voxregen_core.errors.DatabaseUnavailableError`,
        :class:`~voxregen_core.errors.QueueUnavailableError`,
        :class:`~voxregen_core.errors.StorageUnavailableError`) naming why if it does not."""
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


class ServicePorts(Protocol):
    """The ports the use cases (:mod:`voxregen_core.use_cases`) run over: the service's
    repositories, object store, job queue and clock. Any object with these attributes will
    do; the service's (``voxregen_adapters.service.Service``) has them."""

    @property
    def profiles(self) -> SingerProfileRepository: ...

    @property
    def references(self) -> SingerReferenceRepository: ...

    @property
    def jobs(self) -> RenderJobRepository: ...

    @property
    def store(self) -> ObjectStore: ...

    @property
    def queue(self) -> JobQueue: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def webhook_sender(self) -> WebhookSender: ...

    @property
    def webhook_secrets(self) -> WebhookSecretRepository: ...
