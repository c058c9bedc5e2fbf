"""The feature blob: one self-describing, versioned binary encoding of :class:`Features`.

Layout (format version 1; all integers little-endian)::

    offset  size  field
    0       4     magic b"VXRF"
    4       2     u16 format version (1)
    6       4     u32 header length H
    10      H     header: UTF-8 JSON object (below)
    10+H    …     the arrays' raw little-endian bytes, back to back
    end-4   4     u32 CRC-32 (zlib) of every byte before it

The header holds ``feature_version``, ``sample_rate_hz``, ``hop_s``, ``duration_s``,
``content`` (``token_rate_hz``, ``n_tokens``) and ``arrays``: for each of ``f0_hz``,
``voiced`` and ``rms_db`` its ``name``, ``dtype`` (numpy string, e.g. ``"<f4"``, ``"|b1"``),
``shape``, ``offset`` (bytes from the start of the array section) and ``length`` (bytes).

The CRC is the one addition to the bare layout: it catches every single-bit flip and all
but one in 2^32 of any other damage (a cut included), so a damaged blob is refused rather
than decoded into plausible wrong features. :func:`decode_features` also checks the
structure (lengths, offsets, dtypes, shapes, one frame count) and raises
:class:`FeatureBlobError`, naming the defect, on anything a version-1 writer would not
have produced.
"""

import json
import math
import struct
import zlib

import numpy as np

from voxregen_core.errors import FeatureBlobError, InvalidParamsError
from voxregen_core.features import ContentPlaceholder, Features

MAGIC = b"VXRF"
FORMAT_VERSION = 1

_PREFIX = struct.Struct("<4sHI")
_CRC = struct.Struct("<I")
_ARRAY_DTYPES = {"f0_hz": np.dtype("<f4"), "voiced": np.dtype("|b1"), "rms_db": np.dtype("<f4")}
_HEADER_FIELDS = {"feature_version", "sample_rate_hz", "hop_s", "duration_s", "content", "arrays"}
_CONTENT_FIELDS = {"token_rate_hz", "n_tokens"}
_ARRAY_FIELDS = {"name", "dtype", "shape", "offset", "length"}


def encode_features(features: Features) -> bytes:
    """The blob of ``features``.

    Raises :class:`InvalidParamsError` if an array is not 1-D of its documented dtype or
    the arrays differ in length.
    """
    arrays = {name: getattr(features, name) for name in _ARRAY_DTYPES}
    for name, array in arrays.items():
        expected = _ARRAY_DTYPES[name].newbyteorder("=")
        if array.ndim != 1 or array.dtype != expected:
            raise InvalidParamsError(
                f"features.{name} must be 1-D {expected}, got {array.dtype} {array.shape}"
            )
    _check_same_length(arrays, InvalidParamsError)

    payloads = {
        name: array.astype(_ARRAY_DTYPES[name], copy=False).tobytes()
        for name, array in arrays.items()
    }
    entries, offset = [], 0
    for name, payload in payloads.items():
        entries.append(
            {
                "name": name,
                "dtype": _ARRAY_DTYPES[name].str,
                "shape": list(arrays[name].shape),
                "offset": offset,
                "length": len(payload),
            }
        )
        offset += len(payload)
    header = {
        "feature_version": features.feature_version,
        "sample_rate_hz": features.sample_rate_hz,
        "hop_s": features.hop_s,
        "duration_s": features.duration_s,
        "content": {
            "token_rate_hz": features.content.token_rate_hz,
            "n_tokens": features.content.n_tokens,
        },
        "arrays": entries,
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    body = b"".join(
        [_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header_bytes)), header_bytes, *payloads.values()]
    )
    return body + _CRC.pack(zlib.crc32(body))


def decode_features(blob: bytes) -> Features:
    """The features in ``blob``; raises :class:`FeatureBlobError` naming any defect."""
    if len(blob) < _PREFIX.size + _CRC.size:
        raise FeatureBlobError(f"a feature blob has at least 14 bytes, got {len(blob)}")
    magic, version, header_length = _PREFIX.unpack_from(blob)
    if magic != MAGIC:
        raise FeatureBlobError(f"not a feature blob: magic {magic!r}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise FeatureBlobError(
            f"feature blob format version {version} is unknown; this build reads {FORMAT_VERSION}"
        )
    body = memoryview(blob)[: -_CRC.size]
    (stored_crc,) = _CRC.unpack_from(blob, len(body))
    if zlib.crc32(body) != stored_crc:
        raise FeatureBlobError(
            f"feature blob is damaged or cut short: CRC-32 of its {len(body)} bytes is "
            f"{zlib.crc32(body):08x}, stored {stored_crc:08x}"
        )
    arrays_start = _PREFIX.size + header_length
    if arrays_start > len(body):
        raise FeatureBlobError(
            f"feature blob header length {header_length} runs past its end ({len(blob)} bytes)"
        )
    try:
        header = json.loads(
            str(body[_PREFIX.size : arrays_start], "utf-8"), parse_constant=_refuse_constant
        )
    except (ValueError, RecursionError) as error:
        raise FeatureBlobError(f"feature blob header is not valid UTF-8 JSON: {error}") from None

    _expect_fields(header, _HEADER_FIELDS, "header")
    _expect_fields(header["content"], _CONTENT_FIELDS, "content")
    if not isinstance(header["feature_version"], str):
        raise FeatureBlobError(
            f"feature blob field 'feature_version' must be a string, "
            f"got {header['feature_version']!r:.80}"
        )
    return Features(
        feature_version=header["feature_version"],
        sample_rate_hz=_integer(header, "sample_rate_hz", minimum=1),
        hop_s=_number(header, "hop_s", positive=True),
        duration_s=_number(header, "duration_s", positive=False),
        content=ContentPlaceholder(
            token_rate_hz=_number(header["content"], "token_rate_hz", positive=True),
            n_tokens=_integer(header["content"], "n_tokens", minimum=0),
        ),
        **_read_arrays(header["arrays"], body[arrays_start:]),
    )


def _read_arrays(entries: object, section: memoryview) -> dict[str, np.ndarray]:
    """The frame arrays, which lie back to back in listed order over the whole section."""
    if not isinstance(entries, list) or len(entries) != len(_ARRAY_DTYPES):
        raise FeatureBlobError(
            f"feature blob 'arrays' must list {len(_ARRAY_DTYPES)} arrays, got {entries!r:.80}"
        )
    for entry in entries:
        _expect_fields(entry, _ARRAY_FIELDS, "array entry")
    names = [entry["name"] for entry in entries]
    if sorted(map(str, names)) != sorted(_ARRAY_DTYPES):
        raise FeatureBlobError(f"feature blob arrays must be {sorted(_ARRAY_DTYPES)}, got {names}")

    arrays, end = {}, 0
    for entry in entries:
        name, dtype, shape = entry["name"], _ARRAY_DTYPES[entry["name"]], entry["shape"]
        if entry["dtype"] != dtype.str:
            raise FeatureBlobError(
                f"array {name!r} has dtype {entry['dtype']!r:.20}, expected {dtype.str!r}"
            )
        if not (
            isinstance(shape, list) and len(shape) == 1 and type(shape[0]) is int and shape[0] >= 0
        ):
            raise FeatureBlobError(f"array {name!r} has shape {shape!r:.40}, expected [n_frames]")
        n_frames = shape[0]
        length = _integer(entry, "length", minimum=0)
        offset = _integer(entry, "offset", minimum=0)
        if (offset, length) != (end, n_frames * dtype.itemsize):
            raise FeatureBlobError(
                f"array {name!r} is declared at bytes {offset}+{length}; {n_frames} frames of "
                f"{dtype.str} right after the previous array would be {end}+"
                f"{n_frames * dtype.itemsize}"
            )
        end += length
        if end > len(section):
            raise FeatureBlobError(
                f"array {name!r} ends at byte {end} of a {len(section)}-byte array section"
            )
        stored = np.uint8 if dtype.kind == "b" else dtype  # bytes other than 0/1 are no bool
        raw = np.frombuffer(section, dtype=stored, count=n_frames, offset=offset)
        if dtype.kind == "b" and n_frames and raw.max() > 1:
            raise FeatureBlobError(f"array {name!r} holds byte {raw.max()}, expected 0 or 1")
        arrays[name] = raw.astype(dtype.newbyteorder("="))
    if end != len(section):
        raise FeatureBlobError(
            f"feature blob has {len(section) - end} stray bytes after its arrays"
        )
    _check_same_length(arrays, FeatureBlobError)
    return arrays


def _check_same_length(arrays: dict[str, np.ndarray], error: type[Exception]) -> None:
    lengths = {name: array.shape[0] for name, array in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise error(f"frame arrays differ in length: {lengths}")


def _expect_fields(value: object, fields: set[str], what: str) -> None:
    if not isinstance(value, dict) or set(value) != fields:
        got = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise FeatureBlobError(f"feature blob {what} must have fields {sorted(fields)}, got {got}")


def _integer(mapping: dict, key: str, *, minimum: int) -> int:
    value = mapping[key]
    if type(value) is not int or value < minimum:
        raise FeatureBlobError(
            f"feature blob field {key!r} must be an integer >= {minimum}, got {value!r:.80}"
        )
    return value


def _number(mapping: dict, key: str, *, positive: bool) -> float:
    value = mapping[key]
    if (
        type(value) not in (int, float)
        or not math.isfinite(value)
        or value < 0
        or (positive and value == 0)
    ):
        bound = "> 0" if positive else ">= 0"
        raise FeatureBlobError(
            f"feature blob field {key!r} must be a finite number {bound}, got {value!r:.80}"
        )
    return float(value)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")
