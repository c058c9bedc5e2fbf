"""Object storage keys: the only place a key is formatted or parsed.

Templates (locked by the brief):

- ``users/{user_id}/profiles/{profile_id}/references/{ref_id}.wav``
- ``users/{user_id}/jobs/{job_id}/input.wav``
- ``users/{user_id}/jobs/{job_id}/chunks/{i}.wav`` (temporary)
- ``users/{user_id}/jobs/{job_id}/output.wav``
- ``users/{user_id}/feature-cache/{input_hash}/{feature_version}.bin``

and the two keys that upload URLs write (ours: the brief's keys stay what jobs and profiles
read):

- ``users/{user_id}/jobs/{job_id}/upload.wav``, a job input's upload;
- ``users/{user_id}/profiles/{profile_id}/uploads/{ref_id}.wav``, a reference's upload.

An upload key is where a prepare-upload's PUT URL writes; the job or reference created on it
moves the upload to its brief key (:func:`upload_target`), which no URL ever writes, so a
second PUT to the URL cannot change what was created (:mod:`voxregen_core.use_cases.uploads`).

Ids are canonical lowercase UUIDs, ``i`` a decimal chunk index without leading zeros,
``input_hash`` 64 lowercase hex digits (sha256) and ``feature_version`` like ``v1``.
"""

import enum
import re
import uuid

import attrs

from voxregen_core.errors import InvalidKeyError

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_HASH = r"[0-9a-f]{64}"
_VERSION = r"v[0-9]+"
_INDEX = r"0|[1-9][0-9]*"


class KeyKind(enum.StrEnum):
    REFERENCE = "reference"
    JOB_INPUT = "job_input"
    CHUNK = "chunk"
    JOB_OUTPUT = "job_output"
    FEATURE_CACHE = "feature_cache"
    JOB_UPLOAD = "job_upload"
    REFERENCE_UPLOAD = "reference_upload"


_PATTERNS = {
    KeyKind.REFERENCE: rf"users/(?P<user_id>{_UUID})/profiles/(?P<profile_id>{_UUID})"
    rf"/references/(?P<ref_id>{_UUID})\.wav",
    KeyKind.JOB_INPUT: rf"users/(?P<user_id>{_UUID})/jobs/(?P<job_id>{_UUID})/input\.wav",
    KeyKind.CHUNK: rf"users/(?P<user_id>{_UUID})/jobs/(?P<job_id>{_UUID})"
    rf"/chunks/(?P<chunk_index>{_INDEX})\.wav",
    KeyKind.JOB_OUTPUT: rf"users/(?P<user_id>{_UUID})/jobs/(?P<job_id>{_UUID})/output\.wav",
    KeyKind.FEATURE_CACHE: rf"users/(?P<user_id>{_UUID})/feature-cache/(?P<input_hash>{_HASH})"
    rf"/(?P<feature_version>{_VERSION})\.bin",
    KeyKind.JOB_UPLOAD: rf"users/(?P<user_id>{_UUID})/jobs/(?P<job_id>{_UUID})/upload\.wav",
    KeyKind.REFERENCE_UPLOAD: rf"users/(?P<user_id>{_UUID})/profiles/(?P<profile_id>{_UUID})"
    rf"/uploads/(?P<ref_id>{_UUID})\.wav",
}
_COMPILED = {kind: re.compile(pattern) for kind, pattern in _PATTERNS.items()}


@attrs.frozen
class ParsedKey:
    """A key taken apart; fields that its template lacks are None."""

    kind: KeyKind
    user_id: uuid.UUID
    profile_id: uuid.UUID | None = None
    ref_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    chunk_index: int | None = None
    input_hash: str | None = None
    feature_version: str | None = None


def _id(value: uuid.UUID | str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidKeyError(f"{name} must be a UUID, got {value!r}") from None


def _user(user_id: uuid.UUID) -> str:
    return f"users/{_id(user_id, 'user_id')}"


def profile_prefix(user_id: uuid.UUID, profile_id: uuid.UUID) -> str:
    """Prefix of every object of one singer profile (ends with '/')."""
    return f"{_user(user_id)}/profiles/{_id(profile_id, 'profile_id')}/"


def reference_key(user_id: uuid.UUID, profile_id: uuid.UUID, ref_id: uuid.UUID) -> str:
    return f"{profile_prefix(user_id, profile_id)}references/{_id(ref_id, 'ref_id')}.wav"


def job_prefix(user_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Prefix of every object of one job (ends with '/')."""
    return f"{_user(user_id)}/jobs/{_id(job_id, 'job_id')}/"


def job_input_key(user_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return job_prefix(user_id, job_id) + "input.wav"


def chunks_prefix(user_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Prefix of one job's chunk objects (ends with '/')."""
    return job_prefix(user_id, job_id) + "chunks/"


def chunk_key(user_id: uuid.UUID, job_id: uuid.UUID, chunk_index: int) -> str:
    if isinstance(chunk_index, bool) or not isinstance(chunk_index, int) or chunk_index < 0:
        raise InvalidKeyError(f"chunk index must be a whole number >= 0, got {chunk_index!r}")
    return f"{chunks_prefix(user_id, job_id)}{chunk_index}.wav"


def job_output_key(user_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return job_prefix(user_id, job_id) + "output.wav"


def feature_cache_key(user_id: uuid.UUID, input_hash: str, feature_version: str) -> str:
    if not re.fullmatch(_HASH, input_hash):
        raise InvalidKeyError(f"input_hash must be 64 lowercase hex digits, got {input_hash!r}")
    if not re.fullmatch(_VERSION, feature_version):
        raise InvalidKeyError(f"feature_version must look like 'v1', got {feature_version!r}")
    return f"{_user(user_id)}/feature-cache/{input_hash}/{feature_version}.bin"


def job_upload_key(user_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return job_prefix(user_id, job_id) + "upload.wav"


def reference_upload_key(user_id: uuid.UUID, profile_id: uuid.UUID, ref_id: uuid.UUID) -> str:
    return f"{profile_prefix(user_id, profile_id)}uploads/{_id(ref_id, 'ref_id')}.wav"


def upload_key_for(key: str) -> str:
    """The upload key whose object becomes ``key``'s, a job input or reference key; raises
    :class:`InvalidKeyError` for any other key."""
    parsed = parse_key(key)
    if parsed.kind is KeyKind.JOB_INPUT:
        return job_upload_key(parsed.user_id, parsed.job_id)
    if parsed.kind is KeyKind.REFERENCE:
        return reference_upload_key(parsed.user_id, parsed.profile_id, parsed.ref_id)
    raise InvalidKeyError(f"a {parsed.kind.value} key takes no upload: {key}")


def upload_target(upload_key: str) -> str:
    """The job input or reference key that the upload under ``upload_key`` becomes (the
    inverse of :func:`upload_key_for`); raises :class:`InvalidKeyError` for a key that is not
    an upload key."""
    parsed = parse_key(upload_key)
    if parsed.kind is KeyKind.JOB_UPLOAD:
        return job_input_key(parsed.user_id, parsed.job_id)
    if parsed.kind is KeyKind.REFERENCE_UPLOAD:
        return reference_key(parsed.user_id, parsed.profile_id, parsed.ref_id)
    raise InvalidKeyError(f"not an upload key: {upload_key}")


def parse_key(key: str) -> ParsedKey:
    """Take a key apart; raise :class:`InvalidKeyError` if it matches no template."""
    for kind, pattern in _COMPILED.items():
        match = pattern.fullmatch(key)
        if match:
            fields = match.groupdict()
            return ParsedKey(
                kind=kind,
                **{
                    name: (
                        int(value)
                        if name == "chunk_index"
                        else uuid.UUID(value)
                        if name.endswith("_id")
                        else value
                    )
                    for name, value in fields.items()
                },
            )
    raise InvalidKeyError(f"not a voxregen storage key: {key[:200]!r}")
