"""Atomic file replacement: write a temporary file beside the target, fsync, rename."""

import os
import secrets
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never a
    part. The file gets the mode ``open`` would give it (0666 less the umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkstemp: it makes the file 0600 whatever the umask. O_EXCL on a random name
    # never opens a file that is already there; the kernel applies the umask to 0o666.
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
