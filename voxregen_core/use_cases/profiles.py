"""Singer profiles' use cases: create, get, list and delete a profile, list a profile's
references, prepare, commit and delete a reference.

Every one is scoped by the caller's ``user_id``: another user's profile is a
:class:`~voxregen_core.errors.NotFoundError`, exactly like a missing one.

Committing a reference takes its upload (:func:`~voxregen_core.use_cases.uploads.take_upload`:
from then on its upload URL changes nothing a build reads), records it and moves the profile
to ``building`` in one step (once: committing it again only does the move and queues the build
again), and queues a profile build. A build that listed the references before the commit
records nothing (:meth:`~voxregen_core.ports.SingerProfileRepository.record_build`), so the
profile is not ``ready`` again before a build analysed the clip. A profile built before stays
usable for renders meanwhile
(:attr:`~voxregen_core.profiles.SingerProfile.usable_for_render`). A commit's duration is
advisory: it is stored (0 if not given) until the build replaces it with the duration it
measures from the clip.
"""

import uuid

import attrs

from voxregen_core.errors import (
    ConflictError,
    NotFoundError,
    ObjectNotFoundError,
    ProfileInUseError,
)
from voxregen_core.jobs import IN_FLIGHT
from voxregen_core.keys import profile_prefix, reference_key, upload_key_for
from voxregen_core.pagination import Page, PageRequest, page_of, page_request
from voxregen_core.ports import ServicePorts
from voxregen_core.profiles import (
    ProfileDeletion,
    ProfileStatus,
    SingerProfile,
    SingerReference,
)
from voxregen_core.use_cases.uploads import PreparedUpload, prepare_upload, take_upload

PROFILES_LIST = "singer-profiles"
REFERENCES_LIST = "singer-references"
"""A profile's references are the list ``singer-references/{profile_id}``: a cursor of one
profile's references is refused for another's."""


@attrs.frozen
class ProfileDetails:
    """A profile and its references, oldest first."""

    profile: SingerProfile
    references: list[SingerReference]


@attrs.frozen
class CommittedReference:
    """A committed reference, and the status its commit left its profile in."""

    reference: SingerReference
    profile_status: ProfileStatus


def owned_profile(
    ports: ServicePorts, *, user_id: uuid.UUID, profile_id: uuid.UUID
) -> SingerProfile:
    """The caller's profile; raises :class:`NotFoundError` for a missing or another user's."""
    profile = ports.profiles.get(user_id=user_id, profile_id=profile_id)
    if profile is None:
        raise NotFoundError(f"no singer profile {profile_id}")
    return profile


def create_profile(ports: ServicePorts, *, user_id: uuid.UUID, name: str) -> SingerProfile:
    """A new profile named ``name``, ``building`` (it waits for its first reference)."""
    return ports.profiles.add(
        SingerProfile(id=uuid.uuid4(), user_id=user_id, name=name, status=ProfileStatus.BUILDING)
    )


def get_profile(
    ports: ServicePorts, *, user_id: uuid.UUID, profile_id: uuid.UUID
) -> ProfileDetails:
    """The caller's profile with its references; :class:`NotFoundError` if it has none such."""
    profile = owned_profile(ports, user_id=user_id, profile_id=profile_id)
    references = ports.references.list_for_profile(user_id=user_id, profile_id=profile_id)
    return ProfileDetails(profile=profile, references=references)


def list_profiles(
    ports: ServicePorts, *, user_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[ProfileDetails]:
    """A page of the caller's profiles, newest first, each with its references
    (:mod:`voxregen_core.pagination`)."""
    page = page_request(user_id=user_id, list_name=PROFILES_LIST, limit=limit, cursor=cursor)
    profiles = page_of(
        ports.profiles.list_page(user_id=user_id, page=page),
        page,
        user_id=user_id,
        list_name=PROFILES_LIST,
    )
    details = [
        ProfileDetails(
            profile=profile,
            references=ports.references.list_for_profile(user_id=user_id, profile_id=profile.id),
        )
        for profile in profiles.items
    ]
    return Page(items=details, next_cursor=profiles.next_cursor)


def list_references(
    ports: ServicePorts,
    *,
    user_id: uuid.UUID,
    profile_id: uuid.UUID,
    limit: int,
    cursor: str | None,
) -> Page[SingerReference]:
    """A page of the references of the caller's profile, newest first; raises
    :class:`NotFoundError` for a missing or another user's profile."""
    owned_profile(ports, user_id=user_id, profile_id=profile_id)
    list_name = f"{REFERENCES_LIST}/{profile_id}"
    page = page_request(user_id=user_id, list_name=list_name, limit=limit, cursor=cursor)
    references = ports.references.list_page(user_id=user_id, profile_id=profile_id, page=page)
    return page_of(references, page, user_id=user_id, list_name=list_name)


def delete_reference(
    ports: ServicePorts, *, user_id: uuid.UUID, profile_id: uuid.UUID, ref_id: uuid.UUID
) -> None:
    """Delete a reference of the caller's profile, its clip (and what its upload URL got after
    the commit) and the exemplars cut from it, and rebuild the profile from the rest: it is
    ``building`` meanwhile, still usable for renders with the embedding it has. With no
    reference left there is nothing to build it from: it is back to a new profile's state
    (``building``, no embedding, waiting for a reference).

    Raises :class:`NotFoundError` for a missing or another user's profile or reference, and
    :class:`ProfileInUseError` for the last reference while a queued or running job renders
    with the profile (it would lose the embedding it renders with).
    """
    owned_profile(ports, user_id=user_id, profile_id=profile_id)
    reference = ports.references.get(user_id=user_id, reference_id=ref_id)
    if reference is None or reference.singer_profile_id != profile_id:
        raise NotFoundError(f"no reference {ref_id} of singer profile {profile_id}")
    others = ports.references.list_for_profile(user_id=user_id, profile_id=profile_id)
    if all(other.id == ref_id for other in others) and _has_jobs_in_flight(
        ports, user_id, profile_id
    ):
        raise ProfileInUseError(
            f"reference {ref_id} is the last of singer profile {profile_id}, which a queued or "
            "running render job uses; cancel it or let it finish, or add a reference first"
        )

    def delete_objects(deleted: SingerReference) -> None:
        ports.store.delete(deleted.object_key)
        ports.store.delete(upload_key_for(deleted.object_key))  # a PUT after the commit

    # marks the profile building with it: a build that read the reference records nothing
    ports.references.delete(user_id=user_id, reference_id=ref_id, delete_object=delete_objects)
    scope = {"user_id": user_id, "profile_id": profile_id}
    if ports.references.list_for_profile(**scope):
        ports.queue.enqueue_profile_build(**scope)
    else:
        ports.profiles.forget_build(**scope)


def _has_jobs_in_flight(ports: ServicePorts, user_id: uuid.UUID, profile_id: uuid.UUID) -> bool:
    first = PageRequest(limit=1)
    return any(
        ports.jobs.list_page(
            user_id=user_id, page=first, status=status, singer_profile_id=profile_id
        )
        for status in IN_FLIGHT
    )


def delete_profile(ports: ServicePorts, *, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    """Delete the caller's profile with its references, exemplars and every object under it
    (uploaded clips, committed or not). Its finished jobs and their outputs stay, no longer
    naming a profile (``singer_profile_id`` null).

    The objects are deleted with the row locked, before the row is, as a job's are
    (:func:`~voxregen_core.use_cases.render_jobs.delete_job`). Raises :class:`NotFoundError`
    for a missing or another user's profile, :class:`ProfileInUseError` while a queued or
    running job renders with it.
    """

    def delete_objects(deletion: ProfileDeletion) -> None:
        if deletion.jobs_in_flight:
            raise ProfileInUseError(
                f"singer profile {profile_id} is used by {deletion.jobs_in_flight} queued or "
                "running render job(s); cancel them or let them finish, then delete it"
            )
        for key in ports.store.list(profile_prefix(user_id, profile_id)):
            ports.store.delete(key)

    if not ports.profiles.delete(
        user_id=user_id, profile_id=profile_id, delete_objects=delete_objects
    ):
        raise NotFoundError(f"no singer profile {profile_id}")


def prepare_reference_upload(
    ports: ServicePorts, *, user_id: uuid.UUID, profile_id: uuid.UUID
) -> PreparedUpload:
    """A PUT URL for the key of a new reference of the caller's profile."""
    owned_profile(ports, user_id=user_id, profile_id=profile_id)
    ref_id = uuid.uuid4()
    return prepare_upload(
        ports.store, ports.clock, ref_id, reference_key(user_id, profile_id, ref_id)
    )


def commit_reference(
    ports: ServicePorts,
    *,
    user_id: uuid.UUID,
    profile_id: uuid.UUID,
    ref_id: uuid.UUID,
    object_key: str,
    duration_s: float | None = None,
) -> CommittedReference:
    """Record the uploaded reference ``ref_id`` under ``object_key`` (the key its preparation
    returned) and queue the profile's build (module docstring).

    Raises :class:`NotFoundError` for another user's or a missing profile,
    :class:`ObjectNotFoundError` for another key or nothing uploaded,
    :class:`~voxregen_core.errors.UploadTooLargeError` for an upload over the limit, and
    :class:`ConflictError` for a reference id committed under another key.
    """
    owned_profile(ports, user_id=user_id, profile_id=profile_id)
    key = reference_key(user_id, profile_id, ref_id)
    if object_key != key:  # another profile's or user's key: as if never uploaded
        raise ObjectNotFoundError(
            f"no upload of reference {ref_id} under {object_key}; "
            f"commit the object_key its prepare-upload returned, {key}"
        )
    take_upload(ports.store, key)
    reference = ports.references.get(user_id=user_id, reference_id=ref_id)
    if reference is None:
        reference = ports.references.add(
            SingerReference(
                id=ref_id,
                user_id=user_id,
                singer_profile_id=profile_id,
                object_key=key,
                duration_s=0.0 if duration_s is None else duration_s,
            )
        )
    elif reference.object_key != key:
        raise ConflictError(f"reference {ref_id} is already committed elsewhere")
    else:  # committed again: adding it would have marked the profile building
        ports.profiles.set_status(
            user_id=user_id, profile_id=profile_id, status=ProfileStatus.BUILDING
        )
    ports.queue.enqueue_profile_build(user_id=user_id, profile_id=profile_id)
    return CommittedReference(reference=reference, profile_status=ProfileStatus.BUILDING)
