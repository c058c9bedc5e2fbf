"""ObjectStore contract, run against every implementation of the port: the in-memory fake, the
local folder and MinIO's SDK against moto's S3 server."""

import io
import os
import uuid

import pytest

from tests.fakes import InMemoryObjectStore
from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_adapters.minio_object_store import MinioObjectStore
from voxregen_core.errors import InvalidKeyError, InvalidParamsError, ObjectNotFoundError
from voxregen_core.keys import (
    chunk_key,
    chunks_prefix,
    job_input_key,
    job_output_key,
    job_upload_key,
    reference_key,
    reference_upload_key,
)
from voxregen_core.ports import ObjectStore

USER = uuid.UUID("11111111-1111-4111-8111-111111111111")
JOB = uuid.UUID("22222222-2222-4222-8222-222222222222")


@pytest.fixture(params=["in_memory", "local", "minio"])
def store(request, tmp_path) -> ObjectStore:
    if request.param == "in_memory":
        return InMemoryObjectStore()
    if request.param == "local":
        return LocalObjectStore(tmp_path, public_url="http://127.0.0.1:8000", signing_key=b"k" * 32)
    return MinioObjectStore(
        endpoint=request.getfixturevalue("s3_endpoint"),
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket=f"voxregen-{uuid.uuid4().hex}",
        secure=False,
    )


def test_satisfies_the_port(store):
    assert isinstance(store, ObjectStore)


def test_put_then_get_returns_the_same_bytes(store):
    key = job_input_key(USER, JOB)
    store.put(key, b"RIFF\x00\x01")
    assert store.get(key) == b"RIFF\x00\x01"
    assert store.exists(key)


def test_open_gives_the_object_as_a_seekable_binary_file_closed_on_leaving(store):
    key = job_input_key(USER, JOB)
    data = b"RIFF" + os.urandom(3 << 20)  # more than one block of any store's copy
    store.put(key, data)
    with store.open(key) as file:
        assert file.read(4) == b"RIFF"
        assert file.seek(0, io.SEEK_END) == len(data)
        file.seek(1_000_003)
        assert file.read(10) == data[1_000_003:1_000_013]
        file.seek(0)
        assert file.read() == data
    assert file.closed


def test_open_of_a_missing_key_raises_not_found(store):
    with (
        pytest.raises(ObjectNotFoundError, match="input.wav"),
        store.open(job_input_key(USER, JOB)),
    ):
        pass


def test_size_is_the_stored_byte_count(store):
    key = job_input_key(USER, JOB)
    store.put(key, b"RIFF" + bytes(1000))
    assert store.size(key) == 1004
    store.put(key, b"")
    assert store.size(key) == 0


def test_size_of_a_missing_key_raises_not_found(store):
    with pytest.raises(ObjectNotFoundError, match="input.wav"):
        store.size(job_input_key(USER, JOB))


def test_put_replaces(store):
    key = job_output_key(USER, JOB)
    store.put(key, b"old")
    store.put(key, b"new")
    assert store.get(key) == b"new"


def test_get_of_a_missing_key_raises_not_found(store):
    with pytest.raises(ObjectNotFoundError, match="output.wav"):
        store.get(job_output_key(USER, JOB))
    assert not store.exists(job_output_key(USER, JOB))


def test_delete_removes_and_tolerates_missing(store):
    key = chunk_key(USER, JOB, 0)
    store.put(key, b"x")
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)


def test_list_returns_sorted_keys_under_the_prefix_only(store):
    for index in (2, 0, 1):
        store.put(chunk_key(USER, JOB, index), b"c")
    store.put(job_input_key(USER, JOB), b"i")
    other_job = uuid.uuid4()
    store.put(chunk_key(USER, other_job, 0), b"o")
    assert store.list(chunks_prefix(USER, JOB)) == [chunk_key(USER, JOB, i) for i in (0, 1, 2)]
    assert store.list(chunks_prefix(USER, uuid.uuid4())) == []


@pytest.mark.parametrize(
    ("source_key", "key"),
    [
        (job_upload_key(USER, JOB), job_input_key(USER, JOB)),
        (reference_upload_key(USER, JOB, JOB), reference_key(USER, JOB, JOB)),
    ],
    ids=["job_input", "reference"],
)
def test_move_puts_the_object_under_the_new_key_and_removes_the_old(store, source_key, key):
    data = b"RIFF" + os.urandom(1 << 20)
    store.put(source_key, data)
    store.move(source_key, key)
    assert store.get(key) == data
    assert not store.exists(source_key)
    store.put(source_key, b"RIFF-second")
    assert store.get(key) == data  # the moved object is its own, whatever the old key gets


def test_move_replaces_the_object_under_the_new_key(store):
    store.put(job_input_key(USER, JOB), b"old")
    store.put(job_upload_key(USER, JOB), b"new")
    store.move(job_upload_key(USER, JOB), job_input_key(USER, JOB))
    assert store.get(job_input_key(USER, JOB)) == b"new"


def test_move_of_a_missing_key_raises_not_found_and_leaves_the_target(store):
    store.put(job_input_key(USER, JOB), b"kept")
    with pytest.raises(ObjectNotFoundError, match="upload.wav"):
        store.move(job_upload_key(USER, JOB), job_input_key(USER, JOB))
    assert store.get(job_input_key(USER, JOB)) == b"kept"


def test_move_refuses_keys_outside_the_templates(store):
    store.put(job_upload_key(USER, JOB), b"x")
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.move(job_upload_key(USER, JOB), "../etc/passwd")
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.move("../etc/passwd", job_input_key(USER, JOB))
    assert store.get(job_upload_key(USER, JOB)) == b"x"


@pytest.mark.parametrize(
    "bad_key",
    ["../etc/passwd", "/etc/passwd", f"users/{USER}/jobs/{JOB}/../../x.wav", "users/x/y.wav", ""],
)
def test_refuses_keys_outside_the_templates(store, bad_key):
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.put(bad_key, b"x")
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.get(bad_key)
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"), store.open(bad_key):
        pass


def test_presigned_urls_name_their_key_and_differ_by_method(store):
    key = job_input_key(USER, JOB)
    put_url = store.presigned_put_url(key, expires_s=600)
    get_url = store.presigned_get_url(key, expires_s=600)
    assert key in put_url and key in get_url
    assert put_url != get_url
    assert store.presigned_put_url(job_output_key(USER, JOB), expires_s=600) != put_url


def test_presigning_refuses_keys_outside_the_templates(store):
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.presigned_put_url("../etc/passwd", expires_s=600)
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.presigned_get_url("users/x/y.wav", expires_s=600)


@pytest.mark.parametrize("expires_s", [0, -5, 7 * 24 * 3600 + 1, 1.5, True])
def test_presigning_refuses_an_expiry_outside_one_second_to_seven_days(store, expires_s):
    with pytest.raises(InvalidParamsError, match="expires_s"):
        store.presigned_put_url(job_input_key(USER, JOB), expires_s=expires_s)
    with pytest.raises(InvalidParamsError, match="expires_s"):
        store.presigned_get_url(job_input_key(USER, JOB), expires_s=expires_s)


def test_put_stream_stores_the_chunks_end_to_end(store):
    key = job_upload_key(USER, JOB)
    # over one S3 part (16 MiB), in chunks of an HTTP body's size, one of them empty
    chunks = [b"RIFF", b"", *(os.urandom(1 << 20) for _ in range(17)), b"tail"]
    store.put_stream(key, iter(chunks))
    assert store.get(key) == b"".join(chunks)
    assert store.size(key) == sum(len(chunk) for chunk in chunks)


def test_put_stream_replaces(store):
    key = job_upload_key(USER, JOB)
    store.put(key, b"old")
    store.put_stream(key, iter([b"ne", b"w"]))
    assert store.get(key) == b"new"


class _CutShort(Exception):
    pass


def _cut_short(*chunks: bytes):
    yield from chunks
    raise _CutShort("the client went away")


@pytest.mark.parametrize("before", [None, b"the earlier upload"])
def test_put_stream_cut_short_stores_nothing_and_keeps_the_earlier_object(store, before):
    key = job_upload_key(USER, JOB)
    if before is not None:
        store.put(key, before)
    with pytest.raises(_CutShort):
        store.put_stream(key, _cut_short(b"RIFF", os.urandom(1 << 20)))
    if before is None:
        assert not store.exists(key)
    else:
        assert store.get(key) == before
    assert store.list(f"users/{USER}/") == ([] if before is None else [key])
