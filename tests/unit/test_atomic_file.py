"""Atomic replacement: readers see the old file or the new one, and a failed write leaves no
trace beside it."""

import os
import stat

import pytest

from voxregen_adapters.atomic_file import write_atomically, write_chunks_atomically


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
