import uuid

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings

from tests import strategies as vst
from tests.signals import synthetic_singing
from voxregen_core.chunking import plan_chunks
from voxregen_core.crossfade import stitch
from voxregen_core.errors import InvalidParamsError
from voxregen_core.features import ContentPlaceholder, Features
from voxregen_core.generator import ChunkFeatures
from voxregen_core.params import RenderParams, Style
from voxregen_core.ports import Generator
from voxregen_core.profiles import SingerProfile
from voxregen_core.stub_generator import StubGenerator

FS = 48_000
JOB_ID = uuid.UUID("3f1c2a94-5b7e-4d0a-9c61-2e8f7a1b0d55")
PROFILE = SingerProfile(id=uuid.uuid4(), user_id=uuid.uuid4(), name="Ana", status="ready")
SINGING = synthetic_singing(18.0, seed=0).audio.astype(np.float32)
NOISE = (0.05 * np.random.default_rng(1).standard_normal(4 * FS)).astype(np.float32)


def chunk(audio, *, chunk_index=0, params=None):
    n_frames = audio.shape[0] // 480 + 1
    features = Features(
        feature_version="v1",
        sample_rate_hz=FS,
        hop_s=0.01,
        f0_hz=np.zeros(n_frames, np.float32),
        voiced=np.zeros(n_frames, bool),
        rms_db=np.full(n_frames, -120.0, np.float32),
        content=ContentPlaceholder(token_rate_hz=50.0, n_tokens=0),
        duration_s=audio.shape[0] / FS,
    )
    return ChunkFeatures(
        audio=audio,
        features=features,
        job_id=JOB_ID,
        chunk_index=chunk_index,
        seed=ChunkFeatures.seed_for(JOB_ID, chunk_index, params or RenderParams()),
    )


def generate(audio, params, *, chunk_index=0):
    return StubGenerator().generate_chunk(
        chunk(audio, chunk_index=chunk_index, params=params), PROFILE, params
    )


def rms_db(x):
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def band_change_db(params, low_hz, high_hz):
    """How much the stub raises the power of white noise in [low_hz, high_hz), in dB."""
    freqs, before = scipy.signal.welch(NOISE, FS, nperseg=4096)
    _, after = scipy.signal.welch(generate(NOISE, params), FS, nperseg=4096)
    band = (freqs >= low_hz) & (freqs < high_hz)
    return 10 * np.log10(after[band].sum() / before[band].sum())


def test_conforms_to_the_generator_port():
    assert isinstance(StubGenerator(), Generator)


@settings(max_examples=20)
@given(params=vst.render_params())
def test_keeps_length_and_dtype_and_is_finite(params):
    out = generate(SINGING[: 3 * FS + 17], params)
    assert out.dtype == np.float32
    assert out.shape == (3 * FS + 17,)
    assert np.all(np.isfinite(out))


@settings(max_examples=10)
@given(params=vst.render_params())
def test_deterministic(params):
    first = generate(SINGING.copy(), params, chunk_index=3)
    again = generate(SINGING.copy(), params, chunk_index=3)
    assert np.array_equal(first, again)


def test_does_not_mutate_the_input():
    audio = SINGING.copy()
    generate(audio, RenderParams(intensity=1.0))
    assert np.array_equal(audio, SINGING)


@pytest.mark.parametrize("style", list(Style))
def test_intensity_zero_is_the_identity(style):
    out = generate(SINGING, RenderParams(style=style, intensity=0.0))
    assert np.max(np.abs(out - SINGING)) <= 1e-6


def test_ignores_quality():
    draft = generate(SINGING, RenderParams(quality="draft"))
    assert np.array_equal(draft, generate(SINGING, RenderParams(quality="high")))


def test_one_sample_chunk():
    assert generate(np.array([0.25], np.float32), RenderParams()).shape == (1,)


def test_natural_lifts_the_presence_band():
    params = RenderParams(style="natural", intensity=1.0)
    presence_db = band_change_db(params, 2_000, 5_000)
    assert presence_db - band_change_db(params, 50, 500) >= 1.0
    assert presence_db - band_change_db(params, 12_000, 20_000) >= 1.0


def test_warm_lifts_the_lows_and_cuts_the_highs():
    params = RenderParams(style="warm", intensity=1.0)
    mid_db = band_change_db(params, 700, 1_400)
    assert band_change_db(params, 50, 200) - mid_db >= 2.0
    assert band_change_db(params, 8_000, 20_000) - mid_db <= -2.0


def test_bright_lifts_the_highs():
    params = RenderParams(style="bright", intensity=1.0)
    assert band_change_db(params, 6_000, 20_000) - band_change_db(params, 50, 1_400) >= 3.0


def test_airy_lifts_around_10_khz():
    params = RenderParams(style="airy", intensity=1.0)
    air_db = band_change_db(params, 8_000, 12_000)
    assert air_db - band_change_db(params, 50, 1_400) >= 3.0
    assert air_db - band_change_db(params, 2_000, 5_000) >= 2.0


@pytest.mark.parametrize("style", list(Style))
def test_eq_amount_grows_with_intensity(style):
    def spread_db(intensity):
        params = RenderParams(style=style, intensity=intensity)
        changes = [
            band_change_db(params, lo, hi) for lo, hi in [(50, 500), (2e3, 5e3), (8e3, 12e3)]
        ]
        return max(changes) - min(changes)

    assert spread_db(0.25) < spread_db(0.5) < spread_db(1.0)


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize(("intensity", "max_change_db"), [(0.5, 4.0), (1.0, 6.0)])
def test_gentle(style, intensity, max_change_db):
    out = generate(SINGING, RenderParams(style=style, intensity=intensity))
    assert abs(rms_db(out) - rms_db(SINGING)) <= max_change_db


def test_compression_narrows_the_level_range():
    # The same noise at -30 then at -10 dBFS RMS: the 20 dB gap shrinks with intensity.
    audio = np.concatenate([NOISE * 10 ** (-4 / 20), NOISE * 10 ** (16 / 20)])
    half = NOISE.size

    def gap_db(intensity):
        out = generate(audio, RenderParams(intensity=intensity))
        return rms_db(out[half + FS : -FS]) - rms_db(out[FS : half - FS])

    def documented_gap_db(intensity):
        # Giannoulis et al. 2012 eq. 4 with the documented threshold -28 dBFS, knee 10 dB and
        # ratio 1 + 1.5 * intensity: -30 dBFS is in the knee, -10 dBFS 13 dB above it.
        slope = 1 / (1 + 1.5 * intensity) - 1
        return 20.0 + slope * (18.0 - (3.0**2 / 20.0))

    assert rms_db(audio[half:]) - rms_db(audio[:half]) == pytest.approx(20.0)
    for intensity in (0.5, 1.0):
        assert gap_db(intensity) == pytest.approx(documented_gap_db(intensity), abs=0.2)


def test_chunked_render_matches_one_long_render():
    # Continuity across chunk boundaries: EQ steady-state start and a centered level window
    # mean that two renders of an overlap agree, so stitched chunks equal one long render.
    audio = synthetic_singing(40.0, seed=3).audio.astype(np.float32)
    params = RenderParams(style="warm", intensity=1.0)
    plan = plan_chunks(audio.size)
    stitched = stitch(
        (
            generate(audio[span.start : span.stop], params, chunk_index=span.index)
            for span in plan.spans
        ),
        plan,
    )
    whole = generate(audio, params)
    assert rms_db(stitched - whole) - rms_db(whole) < -80.0
    assert np.max(np.abs(stitched - whole)) < 1e-3


@pytest.mark.parametrize("shape", [(0,), (100, 2)])
def test_refuses_empty_or_multichannel_audio(shape):
    with pytest.raises(InvalidParamsError, match=r"chunk audio must be .* got \("):
        generate(np.zeros(shape, np.float32), RenderParams())
