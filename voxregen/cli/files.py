"""The files a command reads and writes, checked before any work is done: a stem that is not a
file, and an output that is a folder, is in a folder that does not exist or cannot be written,
or would overwrite the stem, are refused in one line (:func:`voxregen.cli.fail`)."""

import os
from pathlib import Path

from voxregen.cli import fail


def check_input(path: Path) -> None:
    """Refuse an input that is a folder or does not exist."""
    if path.is_dir():
        fail(f"cannot read {path}: it is a folder, not a WAV file")
    if not path.is_file():
        fail(f"cannot read {path}: no such file")


def check_output(option: str, path: Path, *, not_over: Path | None = None) -> None:
    """Refuse an output (named by ``option``) that cannot be written, or is ``not_over`` (the
    input stem: the same path, a hard link or a symlink to it)."""
    if path.is_dir():
        fail(f"cannot write {option} {path}: it is a folder; name a file to write")
    if not path.parent.is_dir():
        fail(f"cannot write {option} {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        fail(f"cannot write {option} {path}: folder {path.parent} is not writable")
    if not_over is not None and same_file(path, not_over):
        fail(f"cannot write {option} {path}: it is the input stem; name another file")


def same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name one file: the same path, or (if both exist) a symlink or a hard
    link to the other (same device and inode)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False
