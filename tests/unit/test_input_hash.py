"""The input hash: sha256 of the uploaded bytes, in the form feature-cache keys require."""

import uuid

import hypothesis.strategies as st
from hypothesis import given

from voxregen_core.input_hash import input_hash
from voxregen_core.keys import KeyKind, feature_cache_key, parse_key


def test_matches_the_published_sha256_test_vectors():
    """FIPS 180-2 appendix B.1 ("abc") and the empty message."""
    assert input_hash(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert input_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@given(st.binary(max_size=512))
def test_every_hash_makes_a_valid_feature_cache_key(data):
    key = feature_cache_key(uuid.UUID(int=1), input_hash(data), "v1")
    parsed = parse_key(key)
    assert parsed.kind is KeyKind.FEATURE_CACHE
    assert parsed.input_hash == input_hash(data)


@given(st.binary(min_size=1, max_size=512), st.data())
def test_any_changed_byte_changes_the_hash(data, draw):
    position = draw.draw(st.integers(0, len(data) - 1))
    changed = bytearray(data)
    changed[position] ^= draw.draw(st.integers(1, 255))
    assert input_hash(bytes(changed)) != input_hash(data)
