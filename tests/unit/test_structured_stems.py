"""Properties over structured stems (exact digital silence, tones, noise, clicks, ramps,
denormals, full-scale squares, DC, concatenated at random levels and lengths): the stub returns
finite audio for any of them, and the whole pipeline delivers a file that meets the spec, as
ffmpeg's ebur128 meter reads it. Random noise alone never finds what these do: a loud segment
followed by exact zeros drove the stub's running mean of power below zero, and every stem a
DAW exports with gated silence failed with ``generator_error``."""

import io
import uuid

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests import strategies as vst
from tests.fakes import (
    InMemoryFeatureCacheRepository,
    InMemoryObjectStore,
    RecordingProgress,
    SteppingClock,
)
from tests.meters import ffmpeg_ebur128
from tests.signals import wav_bytes
from voxregen_core import mastering, spec
from voxregen_core.audio_input import read_stem
from voxregen_core.chunking import plan_chunks
from voxregen_core.features import extract_features
from voxregen_core.generator import ChunkFeatures
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import job_input_key
from voxregen_core.params import RenderParams
from voxregen_core.pipeline import RenderPorts, render
from voxregen_core.profiles import ProfileStatus, SingerProfile
from voxregen_core.stub_generator import StubGenerator

FS = spec.SAMPLE_RATE_HZ
USER = uuid.UUID("6c0b3c1e-2f4d-4b8a-9e57-7d1f0a2b3c01")
PROFILE = SingerProfile(id=uuid.uuid4(), user_id=USER, name="Ada", status=ProfileStatus.READY)
ONLY_GAIN_DB = 0.05
"""A render whose limiter reduced the gain by no more than this needed only gain: it must
read the target on an independent meter."""


def _speech_then_silence() -> np.ndarray:
    """The shape that broke every DAW export: loud voiced audio, then exact zeros."""
    t = np.arange(2 * FS) / FS
    loud = 0.8 * np.sin(2 * np.pi * 220.0 * t) * (1.0 + 0.3 * np.sin(2 * np.pi * 5.0 * t)) / 1.3
    return np.concatenate([loud, np.zeros(3 * FS)])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(stem=vst.structured_stems(max_s=spec.CHUNK_S), params=vst.render_params())
@example(stem=_speech_then_silence(), params=RenderParams())
def test_the_stub_returns_finite_audio_of_the_chunks_length_for_any_structured_chunk(stem, params):
    audio = stem.astype(np.float32)
    request = ChunkFeatures(
        audio=audio,
        features=extract_features(audio, sample_rate_hz=FS),
        job_id=USER,
        chunk_index=0,
        seed=0,
    )
    out = StubGenerator().generate_chunk(request, PROFILE, params)
    assert out.dtype == np.float32 and out.shape == audio.shape
    assert np.isfinite(out).all()


def _render(stem: np.ndarray, *, subtype: str, params: RenderParams):
    job_id = uuid.uuid4()
    job = RenderJob(
        id=job_id,
        user_id=USER,
        singer_profile_id=PROFILE.id,
        input_object_key=job_input_key(USER, job_id),
        params=params,
    )
    ports = RenderPorts(
        store=InMemoryObjectStore(),
        feature_cache=InMemoryFeatureCacheRepository(),
        generator=StubGenerator(),
        progress=RecordingProgress(),
        clock=SteppingClock(),
    )
    data = wav_bytes(np.clip(stem, -1.0, 1.0), fs=FS, subtype=subtype)
    return render(job, read_input=lambda: read_stem(io.BytesIO(data)), profile=PROFILE, ports=ports)


@pytest.mark.slow
@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    stem=vst.structured_stems(max_s=60.0),
    subtype=st.sampled_from(["FLOAT", "PCM_24", "PCM_16"]),
    params=vst.render_params(),
)
@example(stem=_speech_then_silence(), subtype="PCM_16", params=RenderParams())
def test_any_structured_stem_is_delivered_to_the_spec(stem, subtype, params):
    outcome = _render(stem, subtype=subtype, params=params)

    with sf.SoundFile(io.BytesIO(outcome.output_wav)) as wav:
        assert (wav.samplerate, wav.channels, wav.subtype) == (FS, 2, "PCM_16")
        delivered = wav.read(dtype="int16")
    assert delivered.shape[0] == stem.shape[0]
    assert np.array_equal(delivered[:, 0], delivered[:, 1])
    metrics = outcome.metrics
    assert metrics.chunks_total == plan_chunks(stem.shape[0]).chunks_total
    if not delivered.any():
        assert (metrics.loudness_lufs, metrics.true_peak_db) == (None, None)
        return
    reading = ffmpeg_ebur128(outcome.output_wav)
    assert reading.true_peak_dbtp <= spec.CEILING_DBTP
    if metrics.loudness_lufs is None:  # gated out: below -70 LUFS, as ffmpeg reads it too
        assert reading.integrated_lufs <= -69.0
    elif metrics.limiter_gain_reduction_db <= ONLY_GAIN_DB:
        assert metrics.loudness_lufs == pytest.approx(spec.TARGET_LUFS, abs=0.05)
        assert reading.integrated_lufs == pytest.approx(spec.TARGET_LUFS, abs=0.1)


def test_a_stem_whose_loudness_jumps_across_the_target_gets_the_closest_reading(monkeypatch):
    # Found by the property above: a 22 ms full-scale burst, then 4 s of silence with two
    # clicks. As the gain rises the limiter reshapes the burst, a block crosses BS.1770's
    # relative gate, and the delivered reading jumps by LUs across the target (from about -21
    # to -16 LUFS within 0.1 dB of gain): no gain reads -18. A plain secant swung across the
    # jump and delivered its last round. The rounds right at the jump have a block on the gate,
    # where ffmpeg read one 4.6 LU from ours; what must come out is the closest reading of the
    # rounds whose gates are not in doubt, and ffmpeg must agree with it.
    stem = np.zeros(199_581)
    stem[:1068] = np.sin(2 * np.pi * 7640.0 * np.arange(1068) / FS)
    stem[[167_201, 176_260]] = 1.0
    readings_lufs, robust_lufs = [], []
    one_round = mastering._render

    def recorded_round(audio, **kwargs):
        result = one_round(audio, **kwargs)
        readings_lufs.append(result.loudness_lufs)
        if result.loudness_gate_sensitivity_lu <= mastering.ROBUST_READING_LU:
            robust_lufs.append(result.loudness_lufs)
        return result

    monkeypatch.setattr(mastering, "_render", recorded_round)
    outcome = _render(stem, subtype="FLOAT", params=RenderParams())
    loudness_lufs = outcome.metrics.loudness_lufs
    miss_lu = abs(loudness_lufs - spec.TARGET_LUFS)
    assert min(readings_lufs) < spec.TARGET_LUFS - 2.0 < spec.TARGET_LUFS + 1.5 < max(readings_lufs)
    assert miss_lu > 1.0  # no round came close: the jump is real
    assert miss_lu == pytest.approx(
        min(abs(reading - spec.TARGET_LUFS) for reading in robust_lufs), abs=0.001
    )
    assert ffmpeg_ebur128(outcome.output_wav).integrated_lufs == pytest.approx(
        loudness_lufs, abs=0.1
    )
