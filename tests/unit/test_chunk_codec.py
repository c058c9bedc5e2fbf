"""A stored chunk: a float32 WAV that any reader takes (libsndfile, ffprobe), whose comment
names its provenance after the CRC-32 of its samples."""

import io
import json
import subprocess

import numpy as np
import pytest
import soundfile as sf

from voxregen_core.chunk_codec import decode_chunk, encode_chunk


@pytest.mark.parametrize("n_samples", [0, 1, 10, 864_000])
@pytest.mark.parametrize("provenance", ["job:0:params", "job:1:params:x"])  # odd, even length
def test_a_chunk_comes_back_bit_for_bit_with_its_provenance(n_samples, provenance):
    rng = np.random.default_rng(n_samples)
    audio = rng.standard_normal(n_samples).astype(np.float32)
    audio[: min(3, n_samples)] = [np.float32(1e-45), -0.0, 1.0][: min(3, n_samples)]  # subnormal
    data = encode_chunk(audio, provenance=provenance)
    decoded, stored_provenance = decode_chunk(data)
    assert stored_provenance == provenance
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded.view(np.uint32), audio.view(np.uint32))
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == (
        "WAV",
        "FLOAT",
        48_000,
        1,
        n_samples,
    )
    assert encode_chunk(audio, provenance=provenance) == data  # no time stamp in it


def test_ffprobe_reads_the_chunk_and_its_comment(tmp_path):
    path = tmp_path / "0.wav"
    path.write_bytes(encode_chunk(np.zeros(4_800, np.float32), provenance="job:0"))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    answer = json.loads(probe.stdout)
    stream = answer["streams"][0]
    assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == (
        "pcm_f32le",
        "48000",
        1,
    )
    assert answer["format"]["tags"]["comment"].endswith(":job:0")


def test_a_chunk_whose_samples_changed_has_no_provenance():
    audio = np.linspace(-0.5, 0.5, 1_000, dtype=np.float32)
    data = bytearray(encode_chunk(audio, provenance="job:0"))
    data[-4:] = np.float32(0.25).tobytes()  # the last sample, as a torn write might leave it
    decoded, provenance = decode_chunk(bytes(data))
    assert provenance is None
    assert decoded[-1] == np.float32(0.25)


def test_bytes_that_are_no_chunk_have_no_provenance():
    for data in (b"", b"RIFF garbage", encode_chunk(np.zeros(10, np.float32), provenance="x")[:40]):
        assert decode_chunk(data)[1] is None
