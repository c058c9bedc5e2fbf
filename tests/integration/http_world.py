"""A user's world built through the HTTP API, and snapshots of everything stored, for the tests
that attack the API (hostile requests, one user reaching for another's data).

``seed_user`` walks the producer's flow over HTTP (profile, uploaded and committed reference,
uploaded stem, job, output) and stands in for the worker with the repository calls it makes
(``build_profile``, ``finish_job``), so the user owns one of every kind of thing the API names.
``snapshot`` reads every row of every table and every file below a folder, so a test can prove
that a refused request changed nothing.
"""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

from tests.integration.http_api import Api, build_profile, finish_job, running_api
from tests.integration.migrated_database import connected, new_database
from voxregen_adapters.db import tables
from voxregen_adapters.settings import AuthMode

STORE = Path("outside-2/outside-1/store")
"""Where the tests put the storage root, below the folder they snapshot: a key that climbed
two levels out of the root would still write where ``snapshot`` sees it."""
REFERENCE = b"RIFF-reference-clip"
STEM = b"RIFF-input-stem"
OUTPUT = b"RIFF-rendered-output"


@contextmanager
def module_api(
    database_url: str,
    redis_url: str,
    storage_dir: Path,
    *,
    auth_mode: AuthMode = AuthMode.DEV_HEADER,
) -> Iterator[Api]:
    """``running_api`` over a database created here and dropped afterwards, for an app shared
    by a whole module (``fresh_database_url`` is per test)."""
    with (
        new_database(database_url) as url,
        running_api(url, redis_url, storage_dir, auth_mode=auth_mode) as api,
    ):
        yield api


@attrs.frozen
class World:
    """What one user owns: a ready profile with a committed reference, a done job with its
    input and output, and a reserved job whose stem is uploaded but not yet rendered; plus an
    uploaded, uncommitted reference."""

    user_id: uuid.UUID
    profile_id: str
    reference_id: str
    reference_key: str
    job_id: str
    input_key: str
    output_key: str
    pending_job_id: str
    pending_input_key: str
    pending_reference_id: str
    pending_reference_key: str
    credentials: dict[str, str]
    """The headers that authenticate the user in the app's mode (:meth:`Api.as_user`)."""

    def headers(self) -> dict[str, str]:
        return dict(self.credentials)


def _ok(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def _uploaded(api: Api, user_id: uuid.UUID, prepare_path: str, data: bytes) -> dict[str, Any]:
    prepared = _ok(api.client.post(prepare_path, headers=api.as_user(user_id)), 200)
    _ok(api.client.put(prepared["upload_url"], content=data), 204)
    return prepared


def seed_user(api: Api, user_id: uuid.UUID) -> World:
    post, headers = api.client.post, api.as_user(user_id)
    profile_id = _ok(post("/v1/singer-profiles", json={"name": "Alto"}, headers=headers), 201)["id"]
    references = f"/v1/singer-profiles/{profile_id}/references"
    reference = _uploaded(api, user_id, references + ":prepare-upload", REFERENCE)
    commit = {k: reference[k] for k in ("ref_id", "object_key")} | {"duration_sec": 12.5}
    _ok(post(references + ":commit", json=commit, headers=headers), 202)
    build_profile(api.service, user_id, uuid.UUID(profile_id))
    stem = _uploaded(api, user_id, "/v1/render-jobs:prepare-upload", STEM)
    body = {"singer_profile_id": profile_id, "input_object_key": stem["object_key"]}
    job = _ok(post("/v1/render-jobs", json=body, headers=headers), 201)
    finish_job(api.service, user_id, uuid.UUID(job["id"]), OUTPUT)
    pending = _uploaded(api, user_id, "/v1/render-jobs:prepare-upload", STEM)
    pending_reference = _uploaded(api, user_id, references + ":prepare-upload", REFERENCE)
    return World(
        user_id=user_id,
        profile_id=profile_id,
        reference_id=reference["ref_id"],
        reference_key=reference["object_key"],
        job_id=job["id"],
        input_key=stem["object_key"],
        output_key=_ok(api.client.get(f"/v1/render-jobs/{job['id']}", headers=headers), 200)[
            "output_object_key"
        ],
        pending_job_id=pending["job_id"],
        pending_input_key=pending["object_key"],
        pending_reference_id=pending_reference["ref_id"],
        pending_reference_key=pending_reference["object_key"],
        credentials=headers,
    )


@attrs.frozen
class Snapshot:
    rows: dict[str, list[tuple]]
    """Every table's rows, sorted; a dropped table would fail the read."""
    files: dict[str, str]
    """sha256 of every file below the folder, by its path relative to the folder."""


def snapshot(api: Api, folder: Path) -> Snapshot:
    """Every row the service's database holds and every file below ``folder``."""
    with connected(api.service.settings.database_url) as connection:
        rows = {
            table.name: sorted(
                (tuple(row) for row in connection.execute(sa.select(table))), key=repr
            )
            for table in tables.metadata.sorted_tables
        }
    files = {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    return Snapshot(rows=rows, files=files)


def assert_error(response: Any, status: int, codes: set[str] | None = None) -> str:
    """``response`` is ``status`` with the JSON error body; its code (one of ``codes``)."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert codes is None or error["code"] in codes, error
    return error["code"]
