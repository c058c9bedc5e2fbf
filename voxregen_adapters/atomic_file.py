"""Atomic file replacement: write a temporary file beside the target, fsync it (unless it can be
made again), rename it over the target."""

import os
import secrets
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, mode: int = 0o666, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never a
    part. The file gets ``mode`` less the umask: by default what ``open`` would give it (a
    user's output file); a store of users' audio passes 0o600.

    ``durable``: the data reaches the disk before the rename, so the new file survives a power
    cut too. Without it (a file that can be made again, whose every reader checks it: the
    CLI's chunks) the rename still holds against a killed process, but a power cut can leave
    the new file empty, short or zeroed; it saves a wait for the disk per file (for an
    8-minute render's 30 chunks, 0.1 s)."""
    write_chunks_atomically(path, (data,), mode=mode, durable=durable)


def write_chunks_atomically(
    path: Path, chunks: Iterable[bytes], *, mode: int = 0o666, durable: bool = True
) -> None:
    """:func:`write_atomically` of ``chunks`` end to end, each written as it comes (an upload
    as it arrives: one chunk in memory at a time). If iterating ``chunks`` raises, ``path`` is
    left as it was and the error propagates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkstemp: it makes the file 0600 whatever the umask. O_EXCL on a random name
    # never opens a file that is already there; the kernel applies the umask to the mode.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
