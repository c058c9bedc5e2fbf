import hashlib
import json
import uuid

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.signals import sine, synthetic_singing, wav_bytes
from voxregen_core.errors import InvalidInputError
from voxregen_core.profile_stub import (
    EMBEDDING_DIMS,
    ReferenceAudio,
    assess_reference,
    build_stub_profile,
)

FS = 48_000


def reference(audio):
    """A reference as the worker makes it: the hash is of the WAV file's bytes."""
    audio = np.asarray(audio, dtype=np.float32)
    return ReferenceAudio(
        ref_id=uuid.uuid4(),
        content_hash=hashlib.sha256(wav_bytes(audio, subtype="FLOAT")).hexdigest(),
        audio=audio,
    )


# synthetic_singing seeds whose 6 s clips have pauses (seed 1 sings without one).
GOOD = [reference(synthetic_singing(6.0, seed=seed).audio) for seed in (0, 2, 4, 7, 8, 9)]
SILENCE = reference(np.zeros(4 * FS))
TOO_SHORT = reference(synthetic_singing(2.0, seed=0).audio)


def vectors(data, rows):
    array = np.frombuffer(data, dtype="<f4")
    assert array.size == rows * EMBEDDING_DIMS
    return array.reshape(rows, EMBEDDING_DIMS)


def test_minus_6_dbfs_sine_reads_its_level():
    quality = assess_reference(sine(1000.0, peak_dbfs=-6.0, duration_s=5.0), sample_rate_hz=FS)
    assert quality.duration_s == 5.0
    assert quality.peak_dbfs == pytest.approx(-6.0, abs=0.01)
    assert quality.rms_dbfs == pytest.approx(-9.01, abs=0.01)  # sine RMS is 3.01 dB under peak
    assert quality.clipping_pct == 0.0
    assert quality.silence_pct == 0.0
    # A held tone has no pause, so its floor reads at its own level and it is refused.
    assert quality.noise_floor_dbfs == pytest.approx(-9.01, abs=0.01)
    assert [problem.split(" dBFS")[0] for problem in quality.problems] == ["noise floor -9.0"]


def test_clipped_square_wave():
    square = np.where(sine(100.0, peak_dbfs=0.0, duration_s=5.0) >= 0, 1.0, -1.0)
    quality = assess_reference(square, sample_rate_hz=FS)
    assert quality.peak_dbfs == 0.0
    assert quality.rms_dbfs == pytest.approx(0.0, abs=1e-9)
    assert quality.clipping_pct == 100.0
    assert any("100.0% of samples clipped (more than 1%)" in p for p in quality.problems)


def test_a_full_scale_peak_is_accepted_and_heavy_clipping_is_not():
    singing = synthetic_singing(6.0, seed=0).audio
    loud = singing / np.max(np.abs(singing))
    assert assess_reference(loud, sample_rate_hz=FS).accepted  # one sample at full scale
    quality = assess_reference(np.clip(4 * loud, -1, 1), sample_rate_hz=FS)
    assert quality.clipping_pct > 1.0
    assert not quality.accepted


def test_silence():
    quality = assess_reference(np.zeros(4 * FS), sample_rate_hz=FS)
    assert (quality.peak_dbfs, quality.rms_dbfs, quality.noise_floor_dbfs) == (-120.0,) * 3
    assert quality.silence_pct == 100.0
    assert quality.problems == ("100.0% silent (more than 80%)",)


def test_short_and_empty_references():
    assert assess_reference(TOO_SHORT.audio, sample_rate_hz=FS).problems == (
        "shorter than 3 s (2.00 s)",
    )
    empty = assess_reference(np.zeros(0), sample_rate_hz=FS)
    assert empty.duration_s == 0.0
    assert "shorter than 3 s (0.00 s)" in empty.problems


def test_noise_floor_is_the_level_in_the_pauses():
    # Singing with pauses over a noise floor at -50 dBFS RMS: the floor reads -50.
    singing = synthetic_singing(8.0, seed=0)
    noise = 10 ** (-50 / 20) * np.random.default_rng(5).standard_normal(singing.audio.size)
    quality = assess_reference(singing.audio + noise, sample_rate_hz=FS)
    assert quality.noise_floor_dbfs == pytest.approx(-50.0, abs=1.0)
    assert quality.accepted
    noisy = assess_reference(singing.audio + 10 ** (25 / 20) * noise, sample_rate_hz=FS)  # -25
    assert not noisy.accepted
    assert "within 20 dB of the RMS level" in noisy.problems[0]


def test_quality_to_json_is_json():
    quality = assess_reference(np.zeros(4 * FS), sample_rate_hz=FS)
    assert json.loads(json.dumps(quality.to_json(), allow_nan=False)) == {
        "duration_s": 4.0,
        "peak_dbfs": -120.0,
        "rms_dbfs": -120.0,
        "clipping_pct": 0.0,
        "silence_pct": 100.0,
        "noise_floor_dbfs": -120.0,
        "problems": ["100.0% silent (more than 80%)"],
    }


def test_build_shapes_and_unit_norms():
    build = build_stub_profile(GOOD, sample_rate_hz=FS)
    assert build.embedding_version == "stub-v1"
    (profile,) = vectors(build.profile_embedding, 1)
    clusters = vectors(build.cluster_embeddings, 4)
    assert np.linalg.norm(profile) == pytest.approx(1.0, abs=1e-6)
    assert np.linalg.norm(clusters, axis=1) == pytest.approx(np.ones(4), abs=1e-6)
    assert len(build.exemplars) == len(GOOD)
    for exemplar in build.exemplars:
        assert np.linalg.norm(vectors(exemplar.embedding, 1)) == pytest.approx(1.0, abs=1e-6)
        assert (exemplar.f0_p50_hz, exemplar.f0_p90_hz) == (0.0, 0.0)
        assert 0.0 < exemplar.voiced_pct <= 100.0
    assert {exemplar.ref_id for exemplar in build.exemplars} == {ref.ref_id for ref in GOOD}


def test_stats_are_json_and_count_the_accepted():
    build = build_stub_profile([*GOOD[:2], SILENCE, TOO_SHORT], sample_rate_hz=FS)
    stats = json.loads(json.dumps(build.stats, allow_nan=False))
    assert stats["n_references"] == 2
    assert stats["n_rejected"] == 2
    assert stats["total_duration_s"] == pytest.approx(12.0)
    assert len(build.cluster_embeddings) == 2 * EMBEDDING_DIMS * 4  # k = min(4, accepted)
    assert not build.qualities[SILENCE.ref_id].accepted
    assert build.qualities[GOOD[0].ref_id].accepted


def test_deterministic():
    first = build_stub_profile(GOOD, sample_rate_hz=FS)
    again = build_stub_profile(
        [attrs.evolve(ref, audio=ref.audio.copy()) for ref in GOOD], sample_rate_hz=FS
    )
    assert first.profile_embedding == again.profile_embedding
    assert first.cluster_embeddings == again.cluster_embeddings
    assert [e.embedding for e in first.exemplars] == [e.embedding for e in again.exemplars]


@settings(max_examples=20)
@given(st.permutations(GOOD))
def test_order_independent(shuffled):
    build = build_stub_profile(shuffled, sample_rate_hz=FS)
    reference_build = build_stub_profile(GOOD, sample_rate_hz=FS)
    assert build.profile_embedding == reference_build.profile_embedding
    assert build.cluster_embeddings == reference_build.cluster_embeddings
    assert build.stats == reference_build.stats


def test_embeddings_follow_the_file_bytes_not_the_ref_id():
    renamed = [attrs.evolve(ref, ref_id=uuid.uuid4()) for ref in GOOD]
    assert (
        build_stub_profile(renamed, sample_rate_hz=FS).profile_embedding
        == build_stub_profile(GOOD, sample_rate_hz=FS).profile_embedding
    )
    other = build_stub_profile(GOOD[1:], sample_rate_hz=FS)
    assert other.profile_embedding != build_stub_profile(GOOD, sample_rate_hz=FS).profile_embedding


def test_different_files_get_nearly_orthogonal_embeddings():
    build = build_stub_profile(GOOD, sample_rate_hz=FS)
    embeddings = np.stack([vectors(e.embedding, 1)[0] for e in build.exemplars])
    cosines = embeddings @ embeddings.T
    off_diagonal = cosines[~np.eye(len(GOOD), dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 0.3  # random 256-d unit vectors: ~N(0, 1/256)


def test_no_acceptable_reference_lists_every_problem():
    with pytest.raises(InvalidInputError, match="no usable reference: ") as raised:
        build_stub_profile([SILENCE, TOO_SHORT], sample_rate_hz=FS)
    message = str(raised.value)
    assert f"{SILENCE.ref_id}: 100.0% silent" in message
    assert f"{TOO_SHORT.ref_id}: shorter than 3 s (2.00 s)" in message
    assert "\n" not in message


def test_no_reference_at_all():
    with pytest.raises(InvalidInputError, match="at least one reference, got none"):
        build_stub_profile([], sample_rate_hz=FS)


def test_content_hash_must_be_sha256_hex():
    with pytest.raises(ValueError, match="'content_hash' must match regex"):
        ReferenceAudio(ref_id=uuid.uuid4(), content_hash="ABC", audio=np.zeros(10, np.float32))
