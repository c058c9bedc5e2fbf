"""The JSON the API answers with for profiles, references, uploads, downloads and pages: the
use cases' answers (:mod:`voxregen_core.use_cases`), rendered. A render job's is
:func:`voxregen_core.job_document.job_document`, which its webhooks carry too."""

from collections.abc import Callable
from typing import Any, TypeVar

from voxregen_core.job_document import iso_timestamp
from voxregen_core.pagination import Page
from voxregen_core.profiles import SingerProfile, SingerReference
from voxregen_core.use_cases.profiles import CommittedReference, ProfileDetails
from voxregen_core.use_cases.uploads import DownloadLink, PreparedUpload

T = TypeVar("T")


def page_json(page: Page[T], item_json: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """A page of a list: ``{"items": [...], "next_cursor": "..." | null}``, each item as its
    single GET shows it."""
    return {"items": [item_json(item) for item in page.items], "next_cursor": page.next_cursor}


def reference_json(reference: SingerReference) -> dict[str, Any]:
    return {
        "id": str(reference.id),
        "object_key": reference.object_key,
        "duration_sec": reference.duration_s,
        "accepted": reference.accepted,
        "quality_metrics": reference.quality_metrics,
        "created_at": iso_timestamp(reference.created_at),
    }


def new_profile_json(profile: SingerProfile) -> dict[str, Any]:
    """A profile just created: its id and status."""
    return {"id": str(profile.id), "status": profile.status.value}


def profile_json(details: ProfileDetails) -> dict[str, Any]:
    """A profile with its status, stats and references (embeddings stay server-side)."""
    profile, references = details.profile, details.references
    return {
        "id": str(profile.id),
        "name": profile.name,
        "status": profile.status.value,
        "embedding_version": profile.embedding_version,
        "stats": profile.stats,
        "references": [reference_json(reference) for reference in references],
        "created_at": iso_timestamp(profile.created_at),
        "updated_at": iso_timestamp(profile.updated_at),
    }


def _upload_json(id_name: str, upload: PreparedUpload) -> dict[str, Any]:
    return {
        id_name: str(upload.id),
        "object_key": upload.object_key,
        "upload_url": upload.upload_url,
        "expires_at": upload.expires_at.isoformat(),
    }


def job_upload_json(upload: PreparedUpload) -> dict[str, Any]:
    """A job input's upload: the id it reserves is the job's (``job_id``)."""
    return _upload_json("job_id", upload)


def reference_upload_json(upload: PreparedUpload) -> dict[str, Any]:
    """A reference's upload: the id it reserves is the reference's (``ref_id``)."""
    return _upload_json("ref_id", upload)


def reference_commit_json(committed: CommittedReference) -> dict[str, Any]:
    reference = committed.reference
    return {
        "profile_id": str(reference.singer_profile_id),
        "ref_id": str(reference.id),
        "object_key": reference.object_key,
        "status": committed.profile_status.value,
    }


def download_json(link: DownloadLink) -> dict[str, Any]:
    return {"download_url": link.download_url, "expires_at": link.expires_at.isoformat()}
