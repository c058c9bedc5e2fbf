"""Singer profiles and their references.

- ``POST /v1/singer-profiles`` ``{name}`` → 201 ``{id, status}``
- ``GET /v1/singer-profiles/{id}`` → the profile, its stats, status and references
- ``POST /v1/singer-profiles/{id}/references:prepare-upload`` → ``{ref_id, object_key,
  upload_url, expires_at}``: a PUT URL for the key of a new reference
- ``POST /v1/singer-profiles/{id}/references:commit`` ``{ref_id, object_key, duration_sec}`` →
  202: the reference is recorded, the profile goes ``building`` and a ``profile_build`` message is
  queued (a profile built before stays usable for renders meanwhile:
  :attr:`~voxregen_core.profiles.SingerProfile.usable_for_render`). Committing the same
  reference again only queues the build again. ``duration_sec`` is optional and advisory: it
  is stored (0 if left out) until the build replaces it with the duration it measures from
  the clip.

Ids in paths must be UUIDs (Starlette's ``uuid`` convertor), so ``…/{id}`` never swallows a
``:verb`` and a malformed id is a 404 like a missing one.
"""

import uuid
from typing import Any

from voxregen_adapters.service import Service
from voxregen_core.errors import ConflictError, NotFoundError, ObjectNotFoundError
from voxregen_core.keys import reference_key
from voxregen_core.profiles import ProfileStatus, SingerProfile, SingerReference
from voxregen_http.bodies import NewProfile, ReferenceCommit
from voxregen_http.endpoint import v1_route
from voxregen_http.representations import profile_json
from voxregen_http.uploads import UPLOAD_URL_EXPIRES_S, check_upload, expires_at


def owned_profile(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> SingerProfile:
    """The caller's profile; raises :class:`NotFoundError` for a missing or another user's."""
    profile = service.profiles.get(user_id=user_id, profile_id=profile_id)
    if profile is None:
        raise NotFoundError(f"no singer profile {profile_id}")
    return profile


def create_profile(service: Service, user_id: uuid.UUID, body: NewProfile) -> dict[str, Any]:
    profile = service.profiles.add(
        SingerProfile(
            id=uuid.uuid4(), user_id=user_id, name=body.name, status=ProfileStatus.BUILDING
        )
    )
    return {"id": str(profile.id), "status": profile.status.value}


def get_profile(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> dict[str, Any]:
    profile = owned_profile(service, user_id, profile_id)
    references = service.references.list_for_profile(user_id=user_id, profile_id=profile_id)
    return profile_json(profile, references)


def prepare_reference_upload(
    service: Service, user_id: uuid.UUID, profile_id: uuid.UUID
) -> dict[str, Any]:
    owned_profile(service, user_id, profile_id)
    ref_id = uuid.uuid4()
    key = reference_key(user_id, profile_id, ref_id)
    return {
        "ref_id": str(ref_id),
        "object_key": key,
        "upload_url": service.store.presigned_put_url(key, expires_s=UPLOAD_URL_EXPIRES_S),
        "expires_at": expires_at(service.clock.now(), UPLOAD_URL_EXPIRES_S),
    }


def commit_reference(
    service: Service, user_id: uuid.UUID, body: ReferenceCommit, profile_id: uuid.UUID
) -> dict[str, Any]:
    owned_profile(service, user_id, profile_id)
    key = reference_key(user_id, profile_id, body.ref_id)
    if body.object_key != key:  # another profile's or user's key: as if never uploaded
        raise ObjectNotFoundError(
            f"no upload of reference {body.ref_id} under {body.object_key}; "
            f"commit the object_key its prepare-upload returned, {key}"
        )
    check_upload(service.store, key)
    existing = service.references.get(user_id=user_id, reference_id=body.ref_id)
    if existing is None:
        service.references.add(
            SingerReference(
                id=body.ref_id,
                user_id=user_id,
                singer_profile_id=profile_id,
                object_key=key,
                duration_s=0.0 if body.duration_sec is None else body.duration_sec,
            )
        )
    elif existing.object_key != key:
        raise ConflictError(f"reference {body.ref_id} is already committed elsewhere")
    service.profiles.set_status(
        user_id=user_id, profile_id=profile_id, status=ProfileStatus.BUILDING
    )
    service.queue.enqueue_profile_build(user_id=user_id, profile_id=profile_id)
    return {
        "profile_id": str(profile_id),
        "ref_id": str(body.ref_id),
        "object_key": key,
        "status": ProfileStatus.BUILDING.value,
    }


PROFILE = "/v1/singer-profiles/{profile_id:uuid}"
ROUTES = [
    v1_route("/v1/singer-profiles", create_profile, body=NewProfile, status_code=201),
    v1_route(PROFILE, get_profile, methods=("GET",)),
    v1_route(PROFILE + "/references:prepare-upload", prepare_reference_upload),
    v1_route(
        PROFILE + "/references:commit", commit_reference, body=ReferenceCommit, status_code=202
    ),
]
