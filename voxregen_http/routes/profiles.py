"""Singer profiles and their references over HTTP (the rules are
:mod:`voxregen_core.use_cases.profiles`'):

- ``POST /v1/singer-profiles`` ``{name}`` → 201 ``{id, status}``
- ``GET /v1/singer-profiles?limit=&cursor=`` → a page of the caller's profiles, newest first:
  ``{items, next_cursor}``, each item as ``GET …/{id}`` shows it
- ``GET /v1/singer-profiles/{id}`` → the profile, its stats, status and references
- ``GET /v1/singer-profiles/{id}/references?limit=&cursor=`` → a page of its references, newest
  first
- ``DELETE /v1/singer-profiles/{id}`` → 204: the profile, its references, exemplars and clips
  gone (its finished jobs stay, naming no profile); 409 ``profile_in_use`` while a queued or
  running job renders with it
- ``DELETE /v1/singer-profiles/{id}/references/{ref_id}`` → 204: the reference and its clip
  gone, the profile rebuilt from the rest (usable with its last embedding meanwhile)
- ``POST /v1/singer-profiles/{id}/references:prepare-upload`` → ``{ref_id, object_key,
  upload_url, expires_at}``: a PUT URL for the key of a new reference
- ``POST /v1/singer-profiles/{id}/references:commit`` ``{ref_id, object_key, duration_sec}`` →
  202: the reference is recorded, the profile goes ``building`` and a ``profile_build`` message is
  queued (a profile built before stays usable for renders meanwhile). Committing the same
  reference again only queues the build again. ``duration_sec`` is optional and advisory: it
  is stored (0 if left out) until the build replaces it with the duration it measures from
  the clip.

Ids in paths must be UUIDs (Starlette's ``uuid`` convertor), so ``…/{id}`` never swallows a
``:verb`` and a malformed id is a 404 like a missing one.
"""

import uuid
from typing import Any

from voxregen_adapters.service import Service
from voxregen_core.use_cases import profiles
from voxregen_http.bodies import NewProfile, ReferenceCommit
from voxregen_http.endpoint import v1_route
from voxregen_http.queries import ListQuery
from voxregen_http.representations import (
    new_profile_json,
    page_json,
    profile_json,
    reference_commit_json,
    reference_json,
    reference_upload_json,
)


def create_profile(service: Service, user_id: uuid.UUID, body: NewProfile) -> dict[str, Any]:
    return new_profile_json(profiles.create_profile(service, user_id=user_id, name=body.name))


def get_profile(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> dict[str, Any]:
    return profile_json(profiles.get_profile(service, user_id=user_id, profile_id=profile_id))


def list_profiles(service: Service, user_id: uuid.UUID, query: ListQuery) -> dict[str, Any]:
    page = profiles.list_profiles(service, user_id=user_id, limit=query.limit, cursor=query.cursor)
    return page_json(page, profile_json)


def list_references(
    service: Service, user_id: uuid.UUID, query: ListQuery, profile_id: uuid.UUID
) -> dict[str, Any]:
    page = profiles.list_references(
        service, user_id=user_id, profile_id=profile_id, limit=query.limit, cursor=query.cursor
    )
    return page_json(page, reference_json)


def delete_profile(service: Service, user_id: uuid.UUID, profile_id: uuid.UUID) -> None:
    profiles.delete_profile(service, user_id=user_id, profile_id=profile_id)


def delete_reference(
    service: Service, user_id: uuid.UUID, profile_id: uuid.UUID, ref_id: uuid.UUID
) -> None:
    profiles.delete_reference(service, user_id=user_id, profile_id=profile_id, ref_id=ref_id)


def prepare_reference_upload(
    service: Service, user_id: uuid.UUID, profile_id: uuid.UUID
) -> dict[str, Any]:
    upload = profiles.prepare_reference_upload(service, user_id=user_id, profile_id=profile_id)
    return reference_upload_json(upload)


def commit_reference(
    service: Service, user_id: uuid.UUID, body: ReferenceCommit, profile_id: uuid.UUID
) -> dict[str, Any]:
    committed = profiles.commit_reference(
        service,
        user_id=user_id,
        profile_id=profile_id,
        ref_id=body.ref_id,
        object_key=body.object_key,
        duration_s=body.duration_sec,
    )
    return reference_commit_json(committed)


PROFILE = "/v1/singer-profiles/{profile_id:uuid}"
ROUTES = [
    v1_route("/v1/singer-profiles", create_profile, body=NewProfile, status_code=201),
    v1_route("/v1/singer-profiles", list_profiles, methods=("GET",), query=ListQuery),
    v1_route(PROFILE, get_profile, methods=("GET",)),
    v1_route(PROFILE, delete_profile, methods=("DELETE",), status_code=204),
    v1_route(PROFILE + "/references", list_references, methods=("GET",), query=ListQuery),
    v1_route(
        PROFILE + "/references/{ref_id:uuid}",
        delete_reference,
        methods=("DELETE",),
        status_code=204,
    ),
    v1_route(PROFILE + "/references:prepare-upload", prepare_reference_upload),
    v1_route(
        PROFILE + "/references:commit", commit_reference, body=ReferenceCommit, status_code=202
    ),
]
