"""The ``profile_build`` actor's work: a singer profile built from its references,
``building → ready``, or ``error`` with the reason in its stats.

The build does not mark the profile ``building``: committing or deleting a reference does, in
the transaction of the change, and then queues a build (a message delivered twice rebuilds a
``ready`` profile as it is, ``ready`` all along). The build lists the references, builds from
them, and records its result (``ready`` or ``error``, with the exemplars) only if they are
still the profile's references, checked in the transaction of the write
(:meth:`~voxregen_core.ports.SingerProfileRepository.record_build`). A build overtaken by a
commit or a delete records nothing: the build that change queued lists after it and finishes
the profile. So a profile never says ``ready`` with a clip no build analysed, and the last
build of a profile always records (a message lost is queued again by the sweeper).

Each reference is read from the store and decoded; one that cannot be (not a WAV, missing)
is stored as not accepted with that reason, and the v1 stub build
(:func:`voxregen_core.profile_stub.build_stub_profile`) judges the rest. Each decoded
reference's row gets its quality and its duration as measured from the audio (the commit's
``duration_sec`` is only the client's estimate). With no usable reference the profile ends in
``error``, its message naming each reference's problem. A profile with no reference at all
has nothing to build and is left as it is, waiting for its first reference. Rebuilding is
idempotent: the exemplars are replaced (with ids derived from the profile and reference), the
quality and stats overwritten.
Transient failures propagate for Dramatiq to retry; when it gives up,
:func:`abandon_profile_build` moves the profile to ``error`` so it never stays ``building``.
"""

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from voxregen_adapters.service import Service
from voxregen_core import spec
from voxregen_core.audio_input import load_stem
from voxregen_core.errors import InvalidInputError, ObjectNotFoundError
from voxregen_core.input_hash import input_hash
from voxregen_core.profile_stub import (
    ProfileBuild,
    ReferenceAudio,
    ReferenceQuality,
    assess_reference,
    build_stub_profile,
)
from voxregen_core.profiles import ProfileStatus, SingerExemplar, SingerReference
from voxregen_worker.elapsed import ms_since
from voxregen_worker.error_codes import error_code


def profile_build(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    """Build the user's profile ``profile_id`` (see the module docstring); raises only
    transient errors (for a retry) and unexpected ones."""
    with structlog.contextvars.bound_contextvars(
        profile_id=str(profile_id), user_id=str(user_id), stage="profile_build"
    ):
        _profile_build(service, user_id, profile_id)


def _profile_build(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    log = structlog.get_logger()
    started = time.perf_counter()
    scope = {"user_id": user_id, "profile_id": profile_id}
    references = service.references.list_for_profile(**scope)
    if not references:  # nothing committed yet (or no such profile): it waits for a reference
        log.info("profile_build_nothing_to_build")
        return
    built_from = [reference.id for reference in references]
    decoded, unreadable = _read_references(service, references)
    try:
        build = build_stub_profile(
            decoded, sample_rate_hz=spec.SAMPLE_RATE_HZ, unreadable=unreadable
        )
    except InvalidInputError as error:
        _record_qualities(service, user_id, _assessed(decoded))
        stats = _error_stats(error, n_rejected=len(references))
        if service.profiles.record_build_failure(**scope, built_from=built_from, stats=stats):
            log.warning("profile_build_failed", error=error.message, elapsed_ms=ms_since(started))
            return
    else:
        _record_qualities(service, user_id, build.qualities)
        if service.profiles.record_build(
            **scope,
            built_from=built_from,
            embedding_version=build.embedding_version,
            profile_embedding=build.profile_embedding,
            cluster_embeddings=build.cluster_embeddings,
            stats=build.stats,
            exemplars=_exemplars(profile_id, build),
        ):
            log.info(
                "profile_build_done",
                n_references=build.stats["n_references"],
                n_rejected=build.stats["n_rejected"],
                elapsed_ms=ms_since(started),
            )
            return
    # a reference committed or deleted since the list (its build is queued), or no profile
    log.info("profile_build_outdated", n_references=len(references), elapsed_ms=ms_since(started))


def abandon_profile_build(
    service: Service, user_id: uuid.UUID, profile_id: uuid.UUID, error: BaseException
) -> None:
    """Move the profile to ``error`` after Dramatiq gave up on its message."""
    profile = service.profiles.get(user_id=user_id, profile_id=profile_id)
    if profile is not None and profile.status is ProfileStatus.BUILDING:
        service.profiles.set_status(
            user_id=user_id,
            profile_id=profile_id,
            status=ProfileStatus.ERROR,
            stats=_error_stats(error, n_rejected=0),
        )
        structlog.get_logger().warning(
            "profile_build_abandoned", profile_id=str(profile_id), user_id=str(user_id)
        )


def _read_references(
    service: Service, references: Sequence[SingerReference]
) -> tuple[list[ReferenceAudio], list[tuple[uuid.UUID, str]]]:
    """The references' audio, and the ids of those that cannot be decoded with why (recorded
    on their rows as not accepted)."""
    decoded, unreadable = [], []
    for reference in references:
        try:
            data = service.store.get(reference.object_key)
            decoded.append(ReferenceAudio(reference.id, input_hash(data), load_stem(data).audio))
        except (InvalidInputError, ObjectNotFoundError) as error:
            problem = f"{error.code}: {error.message}"
            service.references.record_quality(
                user_id=reference.user_id,
                reference_id=reference.id,
                quality_metrics={"problems": [problem]},
                accepted=False,
            )
            unreadable.append((reference.id, problem))
    return decoded, unreadable


def _assessed(decoded: Sequence[ReferenceAudio]) -> dict[uuid.UUID, ReferenceQuality]:
    return {
        reference.ref_id: assess_reference(reference.audio, sample_rate_hz=spec.SAMPLE_RATE_HZ)
        for reference in decoded
    }


def _record_qualities(
    service: Service, user_id: uuid.UUID, qualities: Mapping[uuid.UUID, ReferenceQuality]
) -> None:
    for reference_id, quality in qualities.items():
        service.references.record_quality(
            user_id=user_id,
            reference_id=reference_id,
            quality_metrics=quality.to_json(),
            accepted=quality.accepted,
            duration_s=quality.duration_s,  # measured: the commit's duration_sec is advisory
        )


def _exemplars(profile_id: uuid.UUID, build: ProfileBuild) -> list[SingerExemplar]:
    return [
        exemplar.to_exemplar(
            exemplar_id=uuid.uuid5(profile_id, f"exemplar:{exemplar.ref_id}"), profile_id=profile_id
        )
        for exemplar in build.exemplars
    ]


def _error_stats(error: BaseException, *, n_rejected: int) -> dict[str, Any]:
    """A profile in ``error``'s stats: no reference used, and why."""
    return {
        "n_references": 0,
        "n_rejected": n_rejected,
        "error": {"code": error_code(error), "message": str(error)},
    }
