"""The render pipeline over ports: decode → features (cache) → chunks → stitch → master → export.

Two runners share its stages, so they behave the same:

- :func:`render` runs every stage in order in one process (the ``voxregen render`` CLI);
- the worker fans one job out across processes: :func:`prepare` once, :func:`store_chunk` in
  one message per chunk (on any worker), then :func:`deliver` once all chunks are stored.

What the stages guarantee:

- Features are looked up in the user's cache by ``(input_hash, feature_version)`` and only
  extracted on a miss; a hit touches the entry. Params are not part of the cache key, so a
  re-render with new params never re-extracts.
- Chunk-level resumability: each chunk is stored under its key as soon as it is generated;
  a chunk already stored with the same provenance (job, index, params, input, profile and
  its embedding's fingerprint) is reused, not regenerated. A killed render loses at most the
  chunk in flight, and a chunk made before the profile was rebuilt is never stitched.
- The core never logs: :func:`render` reports progress and returns metrics.
"""

import time
from collections.abc import Callable, Iterator

import attrs
import numpy as np

from voxregen_core import spec
from voxregen_core.audio_input import Stem, load_stem
from voxregen_core.chunk_codec import decode_chunk, encode_chunk
from voxregen_core.chunking import ChunkPlan, plan_chunks
from voxregen_core.crossfade import stitch
from voxregen_core.errors import (
    ChunkMissingError,
    FeatureBlobError,
    GeneratorError,
    ObjectNotFoundError,
)
from voxregen_core.export import encode_dual_mono_wav16
from voxregen_core.feature_blob import decode_features, encode_features
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.features import Features, extract_features
from voxregen_core.generator import ChunkFeatures
from voxregen_core.input_hash import input_hash
from voxregen_core.jobs import Progress, RenderJob
from voxregen_core.keys import chunk_key
from voxregen_core.mastering import MasterResult, master
from voxregen_core.metrics import RenderMetrics
from voxregen_core.ports import (
    Clock,
    FeatureCacheRepository,
    Generator,
    ObjectStore,
    ProgressReporter,
)
from voxregen_core.profiles import SingerProfile


@attrs.frozen
class RenderPorts:
    """What :func:`render` talks to."""

    store: ObjectStore
    feature_cache: FeatureCacheRepository
    generator: Generator
    progress: ProgressReporter
    clock: Clock


@attrs.frozen(eq=False)
class PreparedStem:
    """A job's decoded input with its features and chunk plan: what every chunk needs."""

    stem: Stem
    input_hash: str
    features: Features
    feature_cache_entry: FeatureCacheEntry
    feature_cache_hit: bool
    plan: ChunkPlan


@attrs.frozen(eq=False)
class Delivery:
    """The delivered file and what mastering measured."""

    output_wav: bytes
    """48 kHz stereo dual-mono 16-bit PCM WAV."""
    mastered: MasterResult


@attrs.frozen(eq=False)
class RenderOutcome:
    output_wav: bytes
    """The delivered file: 48 kHz stereo dual-mono 16-bit PCM WAV."""
    input_hash: str
    feature_cache_entry: FeatureCacheEntry
    metrics: RenderMetrics


class StageTimer:
    """Wall time per named stage, in milliseconds."""

    def __init__(self) -> None:
        self.stage_ms: dict[str, float] = {}
        self._started = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stage_ms[stage] = self.stage_ms.get(stage, 0.0) + 1000.0 * (now - self._started)
        self._started = now

    @property
    def total_s(self) -> float:
        return sum(self.stage_ms.values()) / 1000.0


def render(
    job: RenderJob,
    *,
    read_input: Callable[[], bytes],
    profile: SingerProfile,
    ports: RenderPorts,
) -> RenderOutcome:
    """Render ``job`` in this process and return the delivered WAV with its metrics.

    ``read_input`` returns the uploaded WAV's bytes; it is called once and the bytes are
    dropped as soon as they are decoded (an 8-minute stem is ~130 MB). Raises an
    :class:`~voxregen_core.errors.InvalidInputError` subclass for input that cannot be
    rendered, before any chunk is generated.
    """
    timer = StageTimer()
    prepared = prepare(
        job,
        read_input=read_input,
        store=ports.store,
        feature_cache=ports.feature_cache,
        clock=ports.clock,
        timer=timer,
    )
    plan = prepared.plan
    reused = 0
    ports.progress.report(Progress(chunks_done=0, chunks_total=plan.chunks_total))
    for span in plan.spans:
        generated = store_chunk(
            job,
            prepared,
            span.index,
            profile=profile,
            store=ports.store,
            generator=ports.generator,
        )
        reused += not generated
        ports.progress.report(Progress(chunks_done=span.index + 1, chunks_total=plan.chunks_total))
    timer.lap("chunks")

    delivery = deliver(
        job, plan, input_hash=prepared.input_hash, profile=profile, store=ports.store, timer=timer
    )
    metrics = render_metrics(
        prepared.plan,
        prepared.features,
        delivery.mastered,
        runtime_s=timer.total_s,
        feature_cache_hit=prepared.feature_cache_hit,
        chunks_reused=reused,
        stage_ms=timer.stage_ms,
    )
    return RenderOutcome(
        output_wav=delivery.output_wav,
        input_hash=prepared.input_hash,
        feature_cache_entry=prepared.feature_cache_entry,
        metrics=metrics,
    )


def prepare(
    job: RenderJob,
    *,
    read_input: Callable[[], bytes],
    store: ObjectStore,
    feature_cache: FeatureCacheRepository,
    clock: Clock,
    timer: StageTimer | None = None,
) -> PreparedStem:
    """Decode the job's input, find (or extract and cache) its features and plan its chunks.

    Raises an :class:`~voxregen_core.errors.InvalidInputError` subclass for input that
    cannot be rendered. ``timer``, if given, gets the ``decode`` and ``features`` laps.
    """
    timer = timer or StageTimer()
    data = read_input()
    stem, hash_hex = load_stem(data), input_hash(data)
    del data
    timer.lap("decode")
    features, entry, cache_hit = _features(job, stem, hash_hex, store, feature_cache, clock)
    timer.lap("features")
    return PreparedStem(
        stem=stem,
        input_hash=hash_hex,
        features=features,
        feature_cache_entry=entry,
        feature_cache_hit=cache_hit,
        plan=plan_chunks(stem.audio.shape[0]),
    )


def store_chunk(
    job: RenderJob,
    prepared: PreparedStem,
    chunk_index: int,
    *,
    profile: SingerProfile,
    store: ObjectStore,
    generator: Generator,
) -> bool:
    """Generate and store chunk ``chunk_index`` unless it is already stored with this
    render's provenance. Returns True if it was generated, False if reused."""
    span = prepared.plan.spans[chunk_index]
    provenance = _provenance(job, prepared.input_hash, profile, chunk_index)
    key = chunk_key(job.user_id, job.id, chunk_index)
    if _stored_chunk(store, key, provenance, span.n_samples) is not None:
        return False
    request = ChunkFeatures(
        audio=prepared.stem.audio[span.start : span.stop],
        features=prepared.features.for_samples(span.start, span.stop),
        job_id=job.id,
        chunk_index=chunk_index,
        seed=ChunkFeatures.seed_for(job.id, chunk_index, job.params),
    )
    audio = _checked(generator.generate_chunk(request, profile, job.params), request)
    store.put(key, encode_chunk(audio, provenance=provenance))
    return True


def deliver(
    job: RenderJob,
    plan: ChunkPlan,
    *,
    input_hash: str,
    profile: SingerProfile,
    store: ObjectStore,
    timer: StageTimer | None = None,
) -> Delivery:
    """Stitch the job's stored chunks, master and export them.

    Raises :class:`~voxregen_core.errors.ChunkMissingError` if a chunk is missing or was not
    made by this render. ``timer``, if given, gets the ``stitch``, ``master`` and ``export``
    laps.
    """
    timer = timer or StageTimer()
    stitched = stitch(_load_chunks(job, plan, input_hash, profile, store), plan)
    timer.lap("stitch")
    mastered = master(
        stitched,
        sample_rate_hz=spec.SAMPLE_RATE_HZ,
        target_lufs=job.params.target_lufs,
        ceiling_dbtp=job.params.true_peak_db,
        seed=ChunkFeatures.seed_for(job.id, plan.chunks_total, job.params),
    )
    del stitched
    timer.lap("master")
    output_wav = encode_dual_mono_wav16(mastered.pcm16, sample_rate_hz=spec.SAMPLE_RATE_HZ)
    timer.lap("export")
    return Delivery(output_wav=output_wav, mastered=mastered)


def render_metrics(
    plan: ChunkPlan,
    features: Features,
    mastered: MasterResult,
    *,
    runtime_s: float,
    feature_cache_hit: bool,
    chunks_reused: int,
    stage_ms: dict[str, float],
) -> RenderMetrics:
    """The metrics stored on a finished job."""
    duration_s = plan.n_samples / spec.SAMPLE_RATE_HZ
    f0_stats = features.f0_stats()
    return RenderMetrics(
        runtime_sec=round(runtime_s, 3),
        rtf_estimate=round(runtime_s / duration_s, 4),
        chunks_total=plan.chunks_total,
        true_peak_db=_rounded(mastered.true_peak_dbtp),
        loudness_lufs=_rounded(mastered.loudness_lufs),
        input_duration_s=round(duration_s, 3),
        gain_db=round(mastered.gain_db, 3),
        limiter_gain_reduction_db=round(mastered.limiter_gain_reduction_db, 3),
        f0_p50_hz=_rounded(f0_stats["f0_p50_hz"]),
        f0_p90_hz=_rounded(f0_stats["f0_p90_hz"]),
        voiced_pct=round(f0_stats["voiced_pct"], 2),
        feature_cache_hit=feature_cache_hit,
        chunks_reused=chunks_reused,
        stage_ms={stage: round(ms, 1) for stage, ms in stage_ms.items()},
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _features(
    job: RenderJob,
    stem: Stem,
    hash_hex: str,
    store: ObjectStore,
    feature_cache: FeatureCacheRepository,
    clock: Clock,
) -> tuple[Features, FeatureCacheEntry, bool]:
    """The stem's features from the user's cache, or extracted and cached on a miss."""
    version = spec.FEATURE_VERSION
    entry = feature_cache.find(user_id=job.user_id, input_hash=hash_hex, feature_version=version)
    if entry is not None:
        try:
            features = decode_features(store.get(entry.object_key))
        except ObjectNotFoundError:
            features = None  # gone (evicted since it was found): extracted again below
        except FeatureBlobError:
            features = None  # a damaged blob is replaced below, never trusted
        if features is not None:
            feature_cache.touch(entry, accessed_at=clock.now())
            return features, entry, True

    features = extract_features(stem.audio, sample_rate_hz=spec.SAMPLE_RATE_HZ)
    candidate = entry or FeatureCacheEntry.new(
        user_id=job.user_id,
        input_hash=hash_hex,
        feature_version=version,
        duration_s=stem.audio.shape[0] / spec.SAMPLE_RATE_HZ,
        now=clock.now(),
    )
    store.put(candidate.object_key, encode_features(features))
    return features, feature_cache.add(candidate), False


def _provenance(job: RenderJob, input_hash: str, profile: SingerProfile, chunk_index: int) -> str:
    """What a stored chunk must have been made from to be reused."""
    return (
        f"{job.id}:{chunk_index}:{job.params.fingerprint()}:{input_hash}:{profile.id}"
        f":{profile.embedding_fingerprint}"
    )


def _load_chunks(
    job: RenderJob, plan: ChunkPlan, input_hash: str, profile: SingerProfile, store: ObjectStore
) -> Iterator[np.ndarray]:
    """Each stored chunk in order, checked against this render's provenance."""
    for span in plan.spans:
        key = chunk_key(job.user_id, job.id, span.index)
        provenance = _provenance(job, input_hash, profile, span.index)
        audio = _stored_chunk(store, key, provenance, span.n_samples)
        if audio is None:
            raise ChunkMissingError(
                f"chunk {span.index} vanished or changed before stitching: {key}"
            )
        yield audio


def _stored_chunk(
    store: ObjectStore, key: str, provenance: str, n_samples: int
) -> np.ndarray | None:
    """The chunk stored under ``key`` if it has ``provenance`` and ``n_samples``, else None."""
    try:
        data = store.get(key)
    except ObjectNotFoundError:
        return None
    audio, stored_provenance = decode_chunk(data)
    if stored_provenance != provenance or audio.shape != (n_samples,):
        return None
    return audio


def _checked(audio: np.ndarray, request: ChunkFeatures) -> np.ndarray:
    expected = request.audio.shape
    audio = np.asarray(audio)
    if audio.shape != expected:
        raise GeneratorError(
            f"generator returned shape {audio.shape} for chunk {request.chunk_index}, "
            f"expected {expected}"
        )
    if not np.isfinite(audio).all():
        raise GeneratorError(f"generator returned NaN or Inf in chunk {request.chunk_index}")
    return audio.astype(np.float32, copy=False)
