"""The render pipeline over fake ports: delivery format, determinism, feature cache, resume."""

import io
import uuid

import attrs
import numpy as np
import pytest
import soundfile as sf

import voxregen_core.feature_lookup as feature_lookup_module
from tests.fakes import (
    CrashingGenerator,
    GeneratorCrash,
    IdentityGenerator,
    InMemoryFeatureCacheRepository,
    InMemoryObjectStore,
    RecordingProgress,
    SteppingClock,
)
from tests.meters import ffmpeg_ebur128
from tests.signals import noise_bursts_over_a_quiet_tone, synthetic_singing, wav_bytes
from voxregen_core.audio_input import read_stem
from voxregen_core.chunk_store import load_chunks
from voxregen_core.crossfade import stitch
from voxregen_core.errors import ChunkMissingError, GeneratorError, NotAWavError
from voxregen_core.export import encode_dual_mono_wav16
from voxregen_core.generator import ChunkFeatures
from voxregen_core.jobs import Progress, RenderJob
from voxregen_core.keys import chunk_key, chunks_prefix, job_input_key
from voxregen_core.mastering import master
from voxregen_core.params import RenderParams
from voxregen_core.pipeline import RenderPorts, render
from voxregen_core.profiles import ProfileStatus, SingerProfile
from voxregen_core.stages import deliver, prepare

USER = uuid.UUID("5ad1b6a4-6b0e-4a50-9c0b-0a4b7d1f0001")
PROFILE = SingerProfile(id=uuid.uuid4(), user_id=USER, name="Ada", status=ProfileStatus.READY)
INPUT_S = 36.0  # three chunks: [0, 18), [16, 34), [32, 36)
INPUT_WAV = wav_bytes(synthetic_singing(INPUT_S, seed=3, fs=44_100).audio, fs=44_100)


def _ports(generator=None, store=None, feature_cache=None) -> RenderPorts:
    return RenderPorts(
        store=store or InMemoryObjectStore(),
        feature_cache=feature_cache or InMemoryFeatureCacheRepository(),
        generator=generator or IdentityGenerator(),
        progress=RecordingProgress(),
        clock=SteppingClock(),
    )


def _job(job_id: uuid.UUID | None = None, **params) -> RenderJob:
    job_id = job_id or uuid.uuid4()
    return RenderJob(
        id=job_id,
        user_id=USER,
        singer_profile_id=PROFILE.id,
        input_object_key=job_input_key(USER, job_id),
        params=RenderParams.from_json(params),
    )


def _render(job: RenderJob, ports: RenderPorts, data: bytes = INPUT_WAV):
    return render(job, read_input=lambda: read_stem(io.BytesIO(data)), profile=PROFILE, ports=ports)


def _rendered_and_prepared(job: RenderJob, ports: RenderPorts, data: bytes = INPUT_WAV):
    """``job`` rendered (its chunks stay stored), then prepared again, ready to deliver."""
    _render(job, ports, data)
    return prepare(
        job,
        read_input=lambda: read_stem(io.BytesIO(data)),
        store=ports.store,
        feature_cache=ports.feature_cache,
        clock=ports.clock,
    )


def test_delivers_48k_16bit_dual_mono_at_the_input_length_on_target():
    outcome = _render(_job(), _ports())
    with sf.SoundFile(io.BytesIO(outcome.output_wav)) as wav:
        assert (wav.samplerate, wav.channels, wav.subtype) == (48_000, 2, "PCM_16")
        audio = wav.read(dtype="int16")
    assert audio.shape[0] == round(INPUT_S * 48_000)
    assert np.array_equal(audio[:, 0], audio[:, 1])
    reading = ffmpeg_ebur128(outcome.output_wav)
    assert reading.integrated_lufs == pytest.approx(-18.0, abs=0.1)
    assert reading.true_peak_dbtp <= -1.0
    metrics = outcome.metrics
    assert metrics.chunks_total == 3
    assert metrics.loudness_lufs == pytest.approx(-18.0, abs=0.05)
    assert metrics.true_peak_db <= -1.0
    assert set(metrics.stage_ms) == {"decode", "features", "chunks", "stitch", "master", "export"}


def test_same_job_params_and_input_render_the_same_bytes():
    job = _job()
    assert _render(job, _ports()).output_wav == _render(job, _ports()).output_wav


def test_chunks_generated_on_several_threads_render_the_same_bytes_and_progress():
    job = _job()
    one, three = _ports(), _ports()
    alone = _render(job, one).output_wav
    together = render(
        job,
        read_input=lambda: read_stem(io.BytesIO(INPUT_WAV)),
        profile=PROFILE,
        ports=three,
        threads=3,
    )
    assert together.output_wav == alone
    assert three.progress.reports == one.progress.reports


def test_a_chunk_failing_on_one_thread_fails_the_render_and_keeps_the_chunks_stored():
    job, store = _job(), InMemoryObjectStore()
    with pytest.raises(GeneratorCrash):
        render(
            job,
            read_input=lambda: read_stem(io.BytesIO(INPUT_WAV)),
            profile=PROFILE,
            ports=_ports(generator=CrashingGenerator(1), store=store),
            threads=2,
        )
    stored = store.list(chunks_prefix(job.user_id, job.id))
    assert chunk_key(job.user_id, job.id, 0) in stored  # made before the failure: kept
    assert chunk_key(job.user_id, job.id, 1) not in stored
    resumed = _render(job, _ports(store=store))
    assert resumed.metrics.chunks_reused >= 1
    assert resumed.output_wav == _render(job, _ports()).output_wav


def test_progress_goes_from_zero_to_total_one_chunk_at_a_time():
    ports = _ports()
    _render(_job(), ports)
    assert ports.progress.reports == [Progress(chunks_done=i, chunks_total=3) for i in range(4)]


def test_rerender_with_new_params_reuses_features_without_extracting(monkeypatch):
    ports = _ports()
    first = _render(_job(style="warm"), ports)
    assert first.metrics.feature_cache_hit is False
    objects_before = set(ports.store.objects)
    rows_before = dict(ports.feature_cache.rows)

    def must_not_extract(*args, **kwargs):
        raise AssertionError("features were extracted again")

    monkeypatch.setattr(feature_lookup_module, "extract_features", must_not_extract)
    second = _render(_job(style="bright", intensity=0.9), ports)
    assert second.metrics.feature_cache_hit is True
    assert second.feature_cache_entry.id == first.feature_cache_entry.id
    assert ports.feature_cache.rows.keys() == rows_before.keys()
    new_objects = set(ports.store.objects) - objects_before
    assert all("/chunks/" in key for key in new_objects), new_objects
    entry = next(iter(ports.feature_cache.rows.values()))
    assert entry.last_accessed_at > entry.created_at


def test_another_user_never_gets_my_features():
    ports = _ports()
    _render(_job(), ports)
    other = _job()
    other = RenderJob(
        id=other.id,
        user_id=uuid.uuid4(),
        singer_profile_id=PROFILE.id,
        input_object_key=job_input_key(USER, other.id),
    )
    assert _render(other, ports).metrics.feature_cache_hit is False
    assert len(ports.feature_cache.rows) == 2


def test_a_crashed_render_resumes_from_the_stored_chunks_and_matches_an_uninterrupted_one():
    job = _job(style="airy")
    store = InMemoryObjectStore()
    with pytest.raises(GeneratorCrash):
        _render(job, _ports(CrashingGenerator(crash_at=2), store=store))
    assert store.list(chunks_prefix(USER, job.id)) == [chunk_key(USER, job.id, i) for i in (0, 1)]

    resumed_generator = IdentityGenerator()
    resumed = _render(job, _ports(resumed_generator, store=store))
    assert resumed_generator.calls == [2]
    assert resumed.metrics.chunks_reused == 2
    assert resumed.output_wav == _render(job, _ports()).output_wav


def test_chunks_stored_with_other_params_are_regenerated_not_reused():
    job_id = uuid.uuid4()
    store = InMemoryObjectStore()
    with pytest.raises(GeneratorCrash):
        _render(_job(job_id, style="warm"), _ports(CrashingGenerator(crash_at=2), store=store))
    generator = IdentityGenerator()
    outcome = _render(_job(job_id, style="bright"), _ports(generator, store=store))
    assert generator.calls == [0, 1, 2]
    assert outcome.metrics.chunks_reused == 0


REBUILT = attrs.evolve(PROFILE, embedding_version="stub-v1", profile_embedding=b"\x01" * 8)
"""The same profile after a rebuild stored another embedding."""


def test_chunks_made_before_the_profile_was_rebuilt_are_regenerated_not_reused():
    job = _job()
    store = InMemoryObjectStore()
    with pytest.raises(GeneratorCrash):
        _render(job, _ports(CrashingGenerator(crash_at=2), store=store))
    generator = IdentityGenerator()
    outcome = render(
        job,
        read_input=lambda: read_stem(io.BytesIO(INPUT_WAV)),
        profile=REBUILT,
        ports=_ports(generator, store=store),
    )
    assert generator.calls == [0, 1, 2]
    assert outcome.metrics.chunks_reused == 0


def test_delivery_refuses_a_chunk_made_with_another_embedding():
    job = _job()
    ports = _ports()
    prepared = _rendered_and_prepared(job, ports)
    with pytest.raises(ChunkMissingError, match=r"chunk 0 vanished or changed before stitching"):
        deliver(
            job, prepared.plan, input_hash=prepared.input_hash, profile=REBUILT, store=ports.store
        )


def test_a_damaged_stored_chunk_is_regenerated():
    job = _job()
    store = InMemoryObjectStore()
    _render(job, _ports(store=store))
    store.objects[chunk_key(USER, job.id, 1)] = b"RIFF garbage"
    generator = IdentityGenerator()
    _render(job, _ports(generator, store=store))
    assert generator.calls == [1]


def test_a_stored_chunk_whose_samples_a_crash_zeroed_is_regenerated():
    """What an unsynced chunk file can hold after a power cut: its header and comment, and
    zeros where the samples were."""
    job = _job()
    store = InMemoryObjectStore()
    _render(job, _ports(store=store))
    key = chunk_key(USER, job.id, 1)
    stored = store.objects[key]
    samples_at = stored.index(b"data") + 8
    store.objects[key] = stored[:samples_at] + bytes(len(stored) - samples_at)
    generator = IdentityGenerator()
    _render(job, _ports(generator, store=store))
    assert generator.calls == [1]


def test_a_delivery_that_takes_several_mastering_rounds_is_what_mastering_its_stitch_gives():
    """deliver masters the stitch in its own memory (overwrite_x), over as many rounds as the
    limiter needs: the same file as mastering a copy of the stitch."""
    job = _job()
    ports = _ports()
    data = wav_bytes(noise_bursts_over_a_quiet_tone(), fs=48_000, subtype="FLOAT")
    prepared = _rendered_and_prepared(job, ports, data)
    plan = prepared.plan
    delivery = deliver(
        job, plan, input_hash=prepared.input_hash, profile=PROFILE, store=ports.store
    )
    assert delivery.mastered.iterations > 1
    once = master(
        stitch(load_chunks(job, plan, prepared.input_hash, PROFILE, ports.store), plan),
        sample_rate_hz=48_000,
        target_lufs=job.params.target_lufs,
        ceiling_dbtp=job.params.true_peak_db,
        seed=ChunkFeatures.seed_for(job.id, plan.chunks_total, job.params),
    )
    assert delivery.output_wav == encode_dual_mono_wav16(once.pcm16, sample_rate_hz=48_000)


def test_bad_input_fails_before_any_chunk_is_generated():
    generator = IdentityGenerator()
    ports = _ports(generator)
    with pytest.raises(NotAWavError, match="not a WAV"):
        _render(_job(), ports, data=b"ID3\x04\x00" + bytes(2000))
    assert generator.calls == []
    assert ports.store.objects == {}


class _ShortGenerator(IdentityGenerator):
    def generate_chunk(self, features, singer_profile, params):
        return super().generate_chunk(features, singer_profile, params)[:-1]


def test_a_generator_returning_the_wrong_length_is_refused():
    with pytest.raises(GeneratorError, match=r"chunk 0, expected \(864000,\)"):
        _render(_job(), _ports(_ShortGenerator()))


class _BlobVanishesAfterCheck(InMemoryObjectStore):
    """A store whose ``exists`` still says yes for a feature blob that is gone: the sweeper
    evicted it between a render's look-up and its read."""

    def exists(self, key: str) -> bool:
        return "/feature-cache/" in key or super().exists(key)


def test_a_feature_blob_evicted_after_its_entry_was_found_is_extracted_again():
    ports = _ports(store=_BlobVanishesAfterCheck())
    first = _render(_job(), ports)
    del ports.store.objects[first.feature_cache_entry.object_key]

    again = _render(_job(style="warm"), ports)

    assert again.metrics.feature_cache_hit is False
    assert first.feature_cache_entry.object_key in ports.store.objects
