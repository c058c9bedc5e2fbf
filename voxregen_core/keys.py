"""Object storage keys: the only place a key is formatted or parsed.

Templates (locked by the brief):

- ``users/{user_id}/profiles/{profile_id}/references/{ref_id}.wav``
- ``users/{user_id}/jobs/{job_id}/input.wav``
- ``users/{user_id}/jobs/{job_id}/chunks/{i}.wav`` (temporary)
- ``users/{user_id}/jobs/{job_id}/output.wav``
- ``users/{user_id}/feature-cache/{input_hash}/{feature_version}.bin``

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


_PATTERNS = {
    KeyKind.REFERENCE: rf"users/(?P<user_id>{_UUID})/profiles/(?P<profile_id>{_UUID})"
    rf"/references/(?P<ref_id>{_UUID})\.wav",
    KeyKind.JOB_INPUT: rf"users/(?P<user_id>{_UUID})/jobs/(?P<job_id>{_UUID})/input\.wav",
    KeyKind.CHUNK: rf"users/(?P<user_id>{_UUID})/jobs/(?P<job_id>{_UUID})"
    rf"/chunks/(?P<chunk_index>{_INDEX})\.wav",
    KeyKind.JOB_OUTPUT: rf"users/(?P<user_id>{_UUID})/jobs/(?P<job_id>{_UUID})/output\.wav",
    KeyKind.FEATURE_CACHE: rf"users/(?P<user_id>{_UUID})/feature-cache/(?P<input_hash>{_HASH})"
    rf"/(?P<feature_version>{_VERSION})\.bin",
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
