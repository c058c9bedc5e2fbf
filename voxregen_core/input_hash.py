"""The identity of an uploaded stem: the sha256 of its original bytes (see docs/decisions.md)."""

import hashlib


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
