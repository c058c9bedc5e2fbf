import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies as vst
from voxregen_core import keys
from voxregen_core.errors import InvalidKeyError
from voxregen_core.keys import KeyKind, parse_key

# The brief's templates and the two upload keys, written out again here so the test does not
# trust keys.py's regexes.
ID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TEMPLATES = {
    KeyKind.JOB_UPLOAD: f"users/{ID}/jobs/{ID}/upload\\.wav",
    KeyKind.REFERENCE_UPLOAD: f"users/{ID}/profiles/{ID}/uploads/{ID}\\.wav",
    KeyKind.REFERENCE: f"users/{ID}/profiles/{ID}/references/{ID}\\.wav",
    KeyKind.JOB_INPUT: f"users/{ID}/jobs/{ID}/input\\.wav",
    KeyKind.CHUNK: f"users/{ID}/jobs/{ID}/chunks/(0|[1-9][0-9]*)\\.wav",
    KeyKind.JOB_OUTPUT: f"users/{ID}/jobs/{ID}/output\\.wav",
    KeyKind.FEATURE_CACHE: f"users/{ID}/feature-cache/[0-9a-f]{{64}}/v[0-9]+\\.bin",
}


@given(vst.storage_keys)
def test_every_key_matches_exactly_one_template(key):
    matching = [kind for kind, template in TEMPLATES.items() if re.fullmatch(template, key)]
    assert len(matching) == 1
    assert parse_key(key).kind == matching[0]


@given(vst.uuids, vst.uuids, vst.uuids)
def test_reference_key_parses_back(user_id, profile_id, ref_id):
    key = keys.reference_key(user_id, profile_id, ref_id)
    assert key == f"users/{user_id}/profiles/{profile_id}/references/{ref_id}.wav"
    assert parse_key(key) == keys.ParsedKey(
        kind=KeyKind.REFERENCE, user_id=user_id, profile_id=profile_id, ref_id=ref_id
    )


@given(vst.uuids, vst.uuids, vst.chunk_indices)
def test_job_keys_parse_back(user_id, job_id, chunk_index):
    prefix = f"users/{user_id}/jobs/{job_id}/"
    assert keys.job_prefix(user_id, job_id) == prefix
    assert keys.chunks_prefix(user_id, job_id) == prefix + "chunks/"
    expected = {
        keys.job_input_key(user_id, job_id): (KeyKind.JOB_INPUT, prefix + "input.wav", None),
        keys.job_output_key(user_id, job_id): (KeyKind.JOB_OUTPUT, prefix + "output.wav", None),
        keys.chunk_key(user_id, job_id, chunk_index): (
            KeyKind.CHUNK,
            f"{prefix}chunks/{chunk_index}.wav",
            chunk_index,
        ),
    }
    for key, (kind, literal, index) in expected.items():
        assert key == literal
        assert parse_key(key) == keys.ParsedKey(
            kind=kind, user_id=user_id, job_id=job_id, chunk_index=index
        )


@given(vst.uuids, vst.uuids, vst.uuids)
def test_an_upload_key_becomes_its_brief_key_and_back(user_id, owner_id, ref_id):
    # (upload key, as written, the key it becomes, the prefix deleting its owner deletes)
    cases = [
        (
            keys.job_upload_key(user_id, owner_id),
            f"users/{user_id}/jobs/{owner_id}/upload.wav",
            keys.job_input_key(user_id, owner_id),
            keys.job_prefix(user_id, owner_id),
        ),
        (
            keys.reference_upload_key(user_id, owner_id, ref_id),
            f"users/{user_id}/profiles/{owner_id}/uploads/{ref_id}.wav",
            keys.reference_key(user_id, owner_id, ref_id),
            keys.profile_prefix(user_id, owner_id),
        ),
    ]
    for upload_key, literal, target, owner_prefix in cases:
        assert upload_key == literal
        assert keys.upload_target(upload_key) == target
        assert keys.upload_key_for(target) == upload_key
        assert upload_key.startswith(owner_prefix)


@pytest.mark.parametrize(
    "key",
    [
        keys.chunk_key(uuid.UUID(int=1), uuid.UUID(int=2), 0),
        keys.job_output_key(uuid.UUID(int=1), uuid.UUID(int=2)),
        keys.feature_cache_key(uuid.UUID(int=1), "a" * 64, "v1"),
        keys.job_upload_key(uuid.UUID(int=1), uuid.UUID(int=2)),
    ],
)
def test_only_job_inputs_and_references_take_an_upload(key):
    with pytest.raises(InvalidKeyError, match="takes no upload"):
        keys.upload_key_for(key)
    if parse_key(key).kind is not KeyKind.JOB_UPLOAD:
        with pytest.raises(InvalidKeyError, match="not an upload key"):
            keys.upload_target(key)


@given(vst.uuids, vst.sha256_hex, vst.feature_versions)
def test_feature_cache_key_parses_back(user_id, input_hash, feature_version):
    key = keys.feature_cache_key(user_id, input_hash, feature_version)
    assert key == f"users/{user_id}/feature-cache/{input_hash}/{feature_version}.bin"
    assert parse_key(key) == keys.ParsedKey(
        kind=KeyKind.FEATURE_CACHE,
        user_id=user_id,
        input_hash=input_hash,
        feature_version=feature_version,
    )


def test_ids_given_as_strings_are_canonicalized():
    user_id = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")
    assert keys.job_input_key(str(user_id).upper(), user_id) == keys.job_input_key(user_id, user_id)


U = "0f8fad5b-d9cb-469f-a165-70867728950e"
H = "a" * 64


@pytest.mark.parametrize(
    "key",
    [
        "",
        f"users/{U}/jobs/{U}/input.wav/",
        f"/users/{U}/jobs/{U}/input.wav",
        f"users/{U.upper()}/jobs/{U}/input.wav",
        f"users/{U.replace('-', '')}/jobs/{U}/input.wav",
        f"users/{U}/jobs/{U}/input.WAV",
        f"users/{U}/jobs/{U}/input.wav\n",
        f"users/{U}/jobs/{U}/output.mp3",
        f"users/{U}/jobs/{U}/chunks/01.wav",
        f"users/{U}/jobs/{U}/chunks/-1.wav",
        f"users/{U}/jobs/{U}/chunks/x.wav",
        f"users/{U}/jobs/../jobs/{U}/input.wav",
        f"users/{U}/profiles/{U}/references/{U}.flac",
        f"users/{U}/feature-cache/{H[:-1]}/v1.bin",
        f"users/{U}/feature-cache/{H.upper()}/v1.bin",
        f"users/{U}/feature-cache/{H}/1.bin",
        f"users/{U}/feature-cache/{H}/v1.bin.tmp",
        f"tenants/{U}/jobs/{U}/input.wav",
    ],
)
def test_non_keys_raise(key):
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        parse_key(key)


@given(vst.storage_keys, st.text(min_size=1, max_size=3))
def test_anything_appended_to_a_key_is_refused(key, suffix):
    with pytest.raises(InvalidKeyError):
        parse_key(key + suffix)


@pytest.mark.parametrize("chunk_index", [-1, True, 1.0, "3"])
def test_chunk_key_refuses_bad_indices(chunk_index):
    with pytest.raises(InvalidKeyError, match=f"chunk index .* got {re.escape(repr(chunk_index))}"):
        keys.chunk_key(uuid.UUID(U), uuid.UUID(U), chunk_index)


@pytest.mark.parametrize(
    ("input_hash", "feature_version", "match"),
    [
        (H.upper(), "v1", "input_hash must be 64 lowercase hex digits"),
        (H + "0", "v1", "input_hash must be 64 lowercase hex digits"),
        (H, "1", "feature_version must look like 'v1', got '1'"),
        (H, "v1/../v2", "feature_version must look like 'v1'"),
    ],
)
def test_feature_cache_key_refuses_bad_parts(input_hash, feature_version, match):
    with pytest.raises(InvalidKeyError, match=re.escape(match)):
        keys.feature_cache_key(uuid.UUID(U), input_hash, feature_version)
