"""The input hash: sha256 of the uploaded bytes, in the form feature-cache keys require, of
bytes or of a file read in blocks; and the check that an input still hashes as expected."""

import io
import uuid

import hypothesis.strategies as st
import pytest
from hypothesis import given

from voxregen_core.errors import InputChangedError
from voxregen_core.input_hash import check_unchanged, file_input_hash, input_hash
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


@given(st.binary(max_size=2048), st.integers(0, 100))
def test_a_file_hashes_as_its_bytes_from_where_it_stands(data, start):
    start = min(start, len(data))
    file = io.BytesIO(data)
    file.seek(start)
    assert file_input_hash(file) == input_hash(data[start:])


def test_a_file_over_several_blocks_hashes_as_its_bytes():
    data = bytes(range(256)) * (5 << 12) + b"tail"  # 5 MiB and 4 bytes: past block edges
    assert file_input_hash(io.BytesIO(data)) == input_hash(data)


def test_an_input_is_unchanged_if_it_hashes_as_expected_or_nothing_is_expected():
    check_unchanged(input_hash(b"a"), expected=input_hash(b"a"), key="k")
    check_unchanged(input_hash(b"a"), expected=None, key="k")


def test_an_input_that_hashes_otherwise_has_changed():
    with pytest.raises(InputChangedError, match=f"under k has changed .*{input_hash(b'a')}"):
        check_unchanged(input_hash(b"b"), expected=input_hash(b"a"), key="k")
