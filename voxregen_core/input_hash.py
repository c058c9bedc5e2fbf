"""The identity of an uploaded stem: the sha256 of its original bytes (see docs/decisions.md)."""

import hashlib


def input_hash(data: bytes) -> str:
    """sha256 of the uploaded file's bytes, as 64 lowercase hex digits.

    The format :func:`voxregen_core.keys.feature_cache_key` requires.
    """
    return hashlib.sha256(data).hexdigest()
