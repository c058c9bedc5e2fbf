"""The feature blob: exact round trips, the documented layout, and refusal of any defect."""

import json
import struct
import zlib

import attrs
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from voxregen_core.errors import FeatureBlobError, InvalidParamsError
from voxregen_core.feature_blob import decode_features, encode_features
from voxregen_core.features import ContentPlaceholder, Features

_positive = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)


@st.composite
def features(draw) -> Features:
    n_frames = draw(st.integers(0, 300))

    def frame_array(dtype, elements):
        return draw(hnp.arrays(dtype, n_frames, elements=elements))

    values = st.floats(width=32, allow_nan=False)
    return Features(
        feature_version=draw(st.text(max_size=12)),
        sample_rate_hz=draw(st.integers(1, 10**6)),
        hop_s=draw(_positive),
        f0_hz=frame_array(np.float32, values),
        voiced=frame_array(np.bool_, st.booleans()),
        rms_db=frame_array(np.float32, values),
        content=ContentPlaceholder(
            token_rate_hz=draw(_positive), n_tokens=draw(st.integers(0, 10**9))
        ),
        duration_s=draw(st.floats(min_value=0.0, max_value=1e6)),
    )


def _example() -> Features:
    return Features(
        feature_version="v1",
        sample_rate_hz=48_000,
        hop_s=0.01,
        f0_hz=np.float32([0.0, 220.5, 221.0]),
        voiced=np.array([False, True, True]),
        rms_db=np.float32([-120.0, -20.25, -19.5]),
        content=ContentPlaceholder(token_rate_hz=50.0, n_tokens=2),
        duration_s=0.025,
    )


def _split(blob: bytes) -> tuple[dict, bytes]:
    """Header and array section of a blob, read by the documented layout."""
    magic, version, header_length = struct.unpack_from("<4sHI", blob)
    assert (magic, version) == (b"VXRF", 1)
    assert struct.unpack_from("<I", blob, len(blob) - 4)[0] == zlib.crc32(blob[:-4])
    return json.loads(blob[10 : 10 + header_length]), blob[10 + header_length : -4]


def _signed(header: dict | bytes, arrays: bytes, *, version: int = 1) -> bytes:
    """A blob with a correct CRC around any header and array bytes (to reach later checks)."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = struct.pack("<4sHI", b"VXRF", version, len(header_bytes)) + header_bytes + arrays
    return body + struct.pack("<I", zlib.crc32(body))


@settings(max_examples=150)
@given(features())
def test_round_trip_is_exact(original):
    decoded = decode_features(encode_features(original))
    assert decoded.same_as(original)
    assert decoded.f0_hz.flags.writeable and decoded.f0_hz.flags.aligned


def test_layout_is_as_documented():
    header, arrays = _split(encode_features(_example()))
    assert header == {
        "feature_version": "v1",
        "sample_rate_hz": 48_000,
        "hop_s": 0.01,
        "duration_s": 0.025,
        "content": {"token_rate_hz": 50.0, "n_tokens": 2},
        "arrays": [
            {"name": "f0_hz", "dtype": "<f4", "shape": [3], "offset": 0, "length": 12},
            {"name": "voiced", "dtype": "|b1", "shape": [3], "offset": 12, "length": 3},
            {"name": "rms_db", "dtype": "<f4", "shape": [3], "offset": 15, "length": 12},
        ],
    }
    assert np.frombuffer(arrays, "<f4", 3, 0).tolist() == [0.0, 220.5, 221.0]
    assert arrays[12:15] == b"\x00\x01\x01"
    assert np.frombuffer(arrays, "<f4", 3, 15).tolist() == [-120.0, -20.25, -19.5]


@given(features(), st.data())
def test_every_cut_is_refused(original, data):
    blob = encode_features(original)
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(FeatureBlobError):
        decode_features(blob[:cut])


@given(features(), st.data())
def test_every_single_bit_flip_is_refused(original, data):
    blob = bytearray(encode_features(original))
    bit = data.draw(st.integers(0, 8 * len(blob) - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(FeatureBlobError):
        decode_features(bytes(blob))


@given(features(), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8))
def test_any_damage_gives_an_error_or_the_original(original, changes):
    blob = bytearray(encode_features(original))
    for position, value in changes:
        blob[position % len(blob)] = value
    try:
        decoded = decode_features(bytes(blob))
    except FeatureBlobError:
        return
    assert decoded.same_as(original)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_refused(data):
    with pytest.raises(FeatureBlobError):
        decode_features(data)


def _defect(edit_header=lambda header: None, edit_arrays=lambda arrays: arrays) -> bytes:
    """The example's blob with its header and array bytes edited, CRC recomputed."""
    header, arrays = _split(encode_features(_example()))
    edit_header(header)
    return _signed(header, edit_arrays(arrays))


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"VXRF\x01\x00", "at least 14 bytes"),
        (b"RIFF" + bytes(20), "not a feature blob"),
        (_signed(b"{}", b"", version=2), "version 2 is unknown"),
        (_signed(b"\xff{}", b""), "not valid UTF-8 JSON"),
        (_signed(b'{"hop_s": NaN}', b""), "NaN"),
        (_signed(b"[]", b""), "header must have fields"),
        (_defect(lambda h: h.pop("duration_s")), r"got \['arrays', 'content'"),
        (_defect(lambda h: h.update(extra=1)), "'extra'"),
        (
            _defect(lambda h: h.update(sample_rate_hz=True)),
            "'sample_rate_hz' must be an integer",
        ),
        (_defect(lambda h: h.update(hop_s=0.0)), r"'hop_s' must be a finite number > 0"),
        (_defect(lambda h: h.update(duration_s=-1.0)), r"'duration_s' .* >= 0"),
        (_defect(lambda h: h.update(feature_version=1)), "'feature_version' must be a string"),
        (_defect(lambda h: h["content"].update(n_tokens=-1)), "'n_tokens'"),
        (_defect(lambda h: h["arrays"].pop()), "must list 3 arrays"),
        (_defect(lambda h: h["arrays"][1].update(name="f0_hz")), "arrays must be"),
        (_defect(lambda h: h["arrays"][0].update(dtype="<f8")), "dtype '<f8', expected '<f4'"),
        (_defect(lambda h: h["arrays"][1].update(shape=[3, 1])), r"shape \[3, 1\]"),
        (_defect(lambda h: h["arrays"][0].update(length=8)), "declared at bytes 0\\+8"),
        (_defect(lambda h: h["arrays"][1].update(offset=11)), "declared at bytes 11"),
        (_defect(edit_arrays=lambda a: a + b"\x00"), "1 stray bytes"),
        (_defect(edit_arrays=lambda a: a[:-1]), "ends at byte 27 of a 26-byte"),
        (_defect(edit_arrays=lambda a: a[:12] + b"\x02" + a[13:]), "holds byte 2"),
        (
            _defect(lambda h: h["arrays"][2].update(shape=[2], length=8), lambda a: a[:-4]),
            "differ in length",
        ),
    ],
)
def test_defects_are_named(blob, message):
    with pytest.raises(FeatureBlobError, match=message):
        decode_features(blob)


def test_encoding_refuses_arrays_of_the_wrong_kind():
    with pytest.raises(InvalidParamsError, match="f0_hz must be 1-D float32, got float64"):
        encode_features(attrs.evolve(_example(), f0_hz=np.zeros(3)))
    with pytest.raises(InvalidParamsError, match="'voiced': 2"):
        encode_features(attrs.evolve(_example(), voiced=np.ones(2, bool)))
