"""Demo rows for a fresh database (``voxregen seed``): one user with a ready singer profile,
its reference and exemplar, a feature-cache entry, and a done render job.

The profile is built by the real v1 stub build from a synthetic 4-second reference, so its
embeddings, stats and quality metrics are what a build stores. There are no objects behind the
object keys, and the job's metrics are illustrative: no render ran. Ids are fixed, so seeding
twice changes nothing.
"""

import uuid

import attrs
import numpy as np
import sqlalchemy as sa

from voxregen_adapters.clock import SystemClock
from voxregen_adapters.db.feature_cache_repository import PostgresFeatureCacheRepository
from voxregen_adapters.db.profile_repository import PostgresSingerProfileRepository
from voxregen_adapters.db.reference_repository import PostgresSingerReferenceRepository
from voxregen_adapters.db.render_job_repository import PostgresRenderJobRepository
from voxregen_core import spec
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.input_hash import input_hash
from voxregen_core.jobs import JobStatus, Progress, RenderJob
from voxregen_core.keys import job_input_key, job_output_key, reference_key
from voxregen_core.params import RenderParams, Style
from voxregen_core.profile_stub import EMBEDDING_VERSION, ReferenceAudio, build_stub_profile
from voxregen_core.profiles import ProfileStatus, SingerProfile, SingerReference

DEMO_USER_ID = uuid.UUID("00000000-0000-4000-8000-00000000de00")
DEMO_PROFILE_ID = uuid.UUID("00000000-0000-4000-8000-00000000de01")
DEMO_REFERENCE_ID = uuid.UUID("00000000-0000-4000-8000-00000000de02")
DEMO_EXEMPLAR_ID = uuid.UUID("00000000-0000-4000-8000-00000000de03")
DEMO_FEATURE_CACHE_ID = uuid.UUID("00000000-0000-4000-8000-00000000de04")
DEMO_JOB_ID = uuid.UUID("00000000-0000-4000-8000-00000000de05")
DEMO_STEM_DURATION_S = 40.0
DEMO_CHUNKS_TOTAL = 3  # 40 s in 18 s chunks on a 16 s stride


@attrs.frozen
class SeedOutcome:
    user_id: uuid.UUID
    profile_id: uuid.UUID
    reference_id: uuid.UUID
    job_id: uuid.UUID
    inserted: bool
    """False when the demo rows were already there."""


def seed_demo(engine: sa.Engine) -> SeedOutcome:
    """Insert the demo rows unless they are there; raises what the repositories raise."""
    outcome = SeedOutcome(DEMO_USER_ID, DEMO_PROFILE_ID, DEMO_REFERENCE_ID, DEMO_JOB_ID, True)
    profiles = PostgresSingerProfileRepository(engine)
    if profiles.get(user_id=DEMO_USER_ID, profile_id=DEMO_PROFILE_ID) is not None:
        return attrs.evolve(outcome, inserted=False)
    _seed_profile(engine, profiles)
    _seed_job(engine)
    return outcome


def _demo_reference_audio() -> np.ndarray:
    """4 s at 48 kHz: a 220 Hz tone with vibrato, 0.5 s of silence in the middle."""
    t_s = np.arange(4 * spec.SAMPLE_RATE_HZ) / spec.SAMPLE_RATE_HZ
    phase = 2 * np.pi * 220.0 * t_s + 0.3 * np.sin(2 * np.pi * 5.5 * t_s)
    audio = (0.3 * np.sin(phase)).astype(np.float32)
    audio[int(1.75 * spec.SAMPLE_RATE_HZ) : int(2.25 * spec.SAMPLE_RATE_HZ)] = 0.0
    return audio


def _seed_profile(engine: sa.Engine, profiles: PostgresSingerProfileRepository) -> None:
    audio = _demo_reference_audio()
    build = build_stub_profile(
        [ReferenceAudio(DEMO_REFERENCE_ID, input_hash(audio.tobytes()), audio)],
        sample_rate_hz=spec.SAMPLE_RATE_HZ,
    )
    quality = build.qualities[DEMO_REFERENCE_ID]
    profiles.add(
        SingerProfile(
            id=DEMO_PROFILE_ID,
            user_id=DEMO_USER_ID,
            name="Demo singer",
            status=ProfileStatus.BUILDING,
            embedding_version=EMBEDDING_VERSION,
        )
    )
    PostgresSingerReferenceRepository(engine).add(
        SingerReference(
            id=DEMO_REFERENCE_ID,
            user_id=DEMO_USER_ID,
            singer_profile_id=DEMO_PROFILE_ID,
            object_key=reference_key(DEMO_USER_ID, DEMO_PROFILE_ID, DEMO_REFERENCE_ID),
            duration_s=quality.duration_s,
            quality_metrics=quality.to_json(),
            accepted=quality.accepted,
        )
    )
    (exemplar,) = build.exemplars
    profiles.record_build(
        user_id=DEMO_USER_ID,
        profile_id=DEMO_PROFILE_ID,
        built_from=[DEMO_REFERENCE_ID],
        embedding_version=build.embedding_version,
        profile_embedding=build.profile_embedding,
        cluster_embeddings=build.cluster_embeddings,
        stats=build.stats,
        exemplars=[exemplar.to_exemplar(exemplar_id=DEMO_EXEMPLAR_ID, profile_id=DEMO_PROFILE_ID)],
    )


def _seed_job(engine: sa.Engine) -> None:
    stem_hash = input_hash(b"voxregen demo stem")
    entry = FeatureCacheEntry.new(
        user_id=DEMO_USER_ID,
        input_hash=stem_hash,
        feature_version=spec.FEATURE_VERSION,
        duration_s=DEMO_STEM_DURATION_S,
        now=SystemClock().now(),
    )
    entry = PostgresFeatureCacheRepository(engine).add(
        attrs.evolve(entry, id=DEMO_FEATURE_CACHE_ID)
    )
    jobs = PostgresRenderJobRepository(engine)
    job = jobs.add(
        RenderJob(
            id=DEMO_JOB_ID,
            user_id=DEMO_USER_ID,
            singer_profile_id=DEMO_PROFILE_ID,
            input_object_key=job_input_key(DEMO_USER_ID, DEMO_JOB_ID),
            params=RenderParams(style=Style.WARM, intensity=0.6),
        )
    )
    scope = {"user_id": DEMO_USER_ID, "job_id": job.id}
    jobs.transition(**scope, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING)
    jobs.update_progress(
        **scope, progress=Progress(chunks_done=DEMO_CHUNKS_TOTAL, chunks_total=DEMO_CHUNKS_TOTAL)
    )
    jobs.transition(
        **scope,
        from_status=JobStatus.RUNNING,
        to_status=JobStatus.DONE,
        input_hash=stem_hash,
        stem_feature_cache_id=entry.id,
        output_object_key=job_output_key(DEMO_USER_ID, job.id),
        metrics={
            "runtime_sec": 2.4,
            "rtf_estimate": 0.06,
            "chunks_total": DEMO_CHUNKS_TOTAL,
            "true_peak_db": -1.02,
            "loudness_lufs": -18.0,
        },
    )
