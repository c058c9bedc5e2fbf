"""Atomic replacement: readers see the old file or the new one, and a failed write leaves no
trace beside it."""

import os
import stat
import uuid

import pytest

from voxregen_adapters.atomic_file import write_atomically, write_chunks_atomically
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_core.keys import chunk_key, job_input_key, job_output_key


def test_the_chunks_replace_the_file_end_to_end(tmp_path) -> None:
    path = tmp_path / "stems" / "out.wav"
    write_atomically(path, b"old")
    write_chunks_atomically(path, iter([b"RIFF", b"", b"data"]), mode=0o600)
    assert path.read_bytes() == b"RIFFdata"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 & ~_umask()
    assert os.listdir(path.parent) == ["out.wav"]


def test_chunks_that_raise_leave_the_old_file_and_no_temporary_one(tmp_path) -> None:
    path = tmp_path / "out.wav"
    path.write_bytes(b"old")

    def chunks():
        yield b"RIFF"
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        write_chunks_atomically(path, chunks())
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.wav"]


def test_only_a_durable_write_waits_for_the_disk(tmp_path, monkeypatch) -> None:
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    write_atomically(tmp_path / "output.wav", b"kept")
    write_atomically(tmp_path / "0.wav", b"made again", durable=False)
    assert len(synced) == 1
    assert (tmp_path / "0.wav").read_bytes() == b"made again"
    assert sorted(os.listdir(tmp_path)) == ["0.wav", "output.wav"]


@pytest.mark.parametrize(("sync_chunks", "synced_chunks"), [(True, 1), (False, 0)])
def test_a_local_store_fsyncs_users_files_and_chunks_unless_told(
    tmp_path, monkeypatch, sync_chunks, synced_chunks
) -> None:
    """A worker's store (the default) fsyncs chunks too: its ledger trusts a recorded chunk.
    The CLI's skips them: its render checks every stored chunk before reusing it."""
    store = LocalObjectStore(
        tmp_path, public_url="http://127.0.0.1:8000", signing_key=b"k" * 32, sync_chunks=sync_chunks
    )
    synced = []
    monkeypatch.setattr(os, "fsync", synced.append)
    user, job = uuid.uuid4(), uuid.uuid4()
    store.put(chunk_key(user, job, 0), b"chunk")
    assert len(synced) == synced_chunks
    store.put(job_output_key(user, job), b"output")
    store.put_stream(job_input_key(user, job), [b"in", b"put"])
    assert len(synced) == synced_chunks + 2
    assert store.get(chunk_key(user, job, 0)) == b"chunk"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
