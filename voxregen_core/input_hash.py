"""The identity of an uploaded stem: the sha256 of its original bytes (see docs/decisions.md);
and the check that an input is still the one a job was hashed from."""

import hashlib
from typing import BinaryIO

from voxregen_core.errors import InputChangedError

_BLOCK_BYTES = 1 << 20


def input_hasher() -> "hashlib._Hash":
    """A running :func:`input_hash`, for a file read in blocks: ``update()`` it with every
    block in order, and its ``hexdigest()`` is the input hash of the whole."""
    return hashlib.sha256()


def input_hash(data: bytes) -> str:
    """sha256 of the uploaded file's bytes, as 64 lowercase hex digits.

    The format :func:`voxregen_core.keys.feature_cache_key` requires.
    """
    hasher = input_hasher()
    hasher.update(data)
    return hasher.hexdigest()


def file_input_hash(file: BinaryIO) -> str:
    """:func:`input_hash` of a binary file, read from where it stands to its end in 1 MiB
    blocks (a 737 MB stem is never held whole)."""
    hasher = input_hasher()
    while block := file.read(_BLOCK_BYTES):
        hasher.update(block)
    return hasher.hexdigest()


def check_unchanged(input_hash_hex: str, *, expected: str | None, key: str) -> None:
    """Raise :class:`InputChangedError` if the input under ``key`` hashes to
    ``input_hash_hex`` but a job expects ``expected`` (None: no hash is expected yet)."""
    if expected is not None and input_hash_hex != expected:
        raise InputChangedError(
            f"the input under {key} has changed since it was first rendered (sha256 "
            f"{input_hash_hex}, expected {expected}); upload the file again to render it"
        )
