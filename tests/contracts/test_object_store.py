"""ObjectStore contract, run against every implementation of the port."""

import uuid

import pytest

from tests.fakes import InMemoryObjectStore
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_core.errors import InvalidKeyError, ObjectNotFoundError
from voxregen_core.keys import chunk_key, chunks_prefix, job_input_key, job_output_key
from voxregen_core.ports import ObjectStore

USER = uuid.UUID("11111111-1111-4111-8111-111111111111")
JOB = uuid.UUID("22222222-2222-4222-8222-222222222222")


@pytest.fixture(params=["in_memory", "local"])
def store(request, tmp_path) -> ObjectStore:
    return {"in_memory": InMemoryObjectStore, "local": lambda: LocalObjectStore(tmp_path)}[
        request.param
    ]()


def test_satisfies_the_port(store):
    assert isinstance(store, ObjectStore)


def test_put_then_get_returns_the_same_bytes(store):
    key = job_input_key(USER, JOB)
    store.put(key, b"RIFF\x00\x01")
    assert store.get(key) == b"RIFF\x00\x01"
    assert store.exists(key)


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
    "bad_key",
    ["../etc/passwd", "/etc/passwd", f"users/{USER}/jobs/{JOB}/../../x.wav", "users/x/y.wav", ""],
)
def test_refuses_keys_outside_the_templates(store, bad_key):
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.put(bad_key, b"x")
    with pytest.raises(InvalidKeyError, match="not a voxregen storage key"):
        store.get(bad_key)
