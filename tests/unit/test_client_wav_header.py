"""The client's WAV duration reader (voxregen_client.wav_header) against soundfile's reading of
the same files: every encoding and header the service accepts, chunks before ``data``, and
files that are not WAVs."""

import struct

import numpy as np
import pytest
import soundfile as sf

from tests.bad_inputs import CASE_S, CORPUS
from tests.signals import synthetic_singing, wav_bytes
from voxregen_client import wav_duration_s
from voxregen_core import spec

SUBTYPES = ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE")


def _written(tmp_path, data: bytes):
    path = tmp_path / "clip.wav"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("container", ["WAV", "WAVEX"])
@pytest.mark.parametrize("subtype", SUBTYPES)
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate_hz", [8_000, 44_100, 96_000, 192_000])
def test_the_duration_is_the_frames_over_the_rate(tmp_path, container, subtype, channels, rate_hz):
    mono = synthetic_singing(0.7, seed=3, fs=rate_hz).audio
    data = wav_bytes(
        np.repeat(mono[:, None], channels, axis=1), fs=rate_hz, subtype=subtype, container=container
    )
    path = _written(tmp_path, data)
    info = sf.info(path)
    assert (info.format, info.subtype, info.channels) == (container, subtype, channels)
    assert wav_duration_s(path) == info.frames / rate_hz
    assert info.frames == len(mono)


def test_chunks_before_and_after_data_are_skipped_with_their_padding(tmp_path):
    """An odd-sized ``LIST`` chunk (padded to a word) between ``fmt `` and ``data``, and a tag
    after ``data``, as DAWs write them."""
    plain = wav_bytes(synthetic_singing(1.0, seed=4).audio, subtype="PCM_24")
    fmt_end = 12 + 8 + struct.unpack_from("<I", plain, 16)[0]
    info_chunk = b"LIST" + struct.pack("<I", 5) + b"INFOx\x00"
    tail = b"id3 " + struct.pack("<I", 4) + b"TAG!"
    body = plain[12:fmt_end] + info_chunk + plain[fmt_end:] + tail
    data = b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body
    path = _written(tmp_path, data)
    assert sf.info(path).frames == 48_000
    assert wav_duration_s(path) == 1.0


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"RIFF",
        b"RIFF\x00\x00\x00\x00WAVE",  # no chunk at all
        b"RIFF\x10\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00",  # data before fmt
        b"RIFF\x10\x00\x00\x00WAVEfmt \x04\x00\x00\x00\x01\x00\x01\x00",  # fmt cut short
        b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(64),  # an MP3
    ],
    ids=["empty", "riff_only", "no_chunks", "data_before_fmt", "fmt_cut_short", "mp3"],
)
def test_a_header_that_is_not_a_wav_one_has_no_duration(tmp_path, data):
    assert wav_duration_s(_written(tmp_path, data)) is None


HEADER_DURATIONS_S = {
    "mp3_with_id3_tag": None,
    "mp3_frame_sync": None,
    "random_bytes": None,
    "text_file": None,
    "empty_file": None,
    "header_cut_short": None,
    "data_chunk_short": CASE_S,  # the header declares the whole chunk
    "six_channels": CASE_S,
    "nan_sample": CASE_S,
    "inf_sample": CASE_S,
    "over_8_minutes": spec.MAX_INPUT_S + 1.0,
    "zero_samples": 0.0,
    "too_short": 0.2,
}
"""What the header of each refused case of the corpus says (the service refuses them on
decoding, or on the rules)."""


@pytest.mark.parametrize("case", CORPUS, ids=lambda case: case.name)
def test_the_bad_input_corpus_reads_as_its_header_says(tmp_path, case):
    """Whatever the service is sent, the reader answers the header's duration (soundfile's,
    for the files that render) or None, and never raises."""
    path = _written(tmp_path, case.data)
    if case.renders:
        info = sf.info(path)
        assert wav_duration_s(path) == info.frames / info.samplerate
    else:
        assert wav_duration_s(path) == HEADER_DURATIONS_S[case.name]
