"""The three render stages over ports, shared by every runner so that they behave the same.

- :func:`prepare`: decode (and hash) the input → its features, from the user's cache or
  extracted and cached (:mod:`voxregen_core.feature_lookup`) → the chunk plan;
- :func:`store_chunk`: generate one chunk and store it at once, unless it is already stored with
  this render's provenance (:mod:`voxregen_core.chunk_store`): a killed render loses at most the
  chunk in flight, and a chunk made before the profile was rebuilt is never reused;
- :func:`deliver`: stitch the stored chunks, checked against the same provenance → master →
  export.

:func:`voxregen_core.pipeline.render` runs them in order in one process (the ``voxregen render``
CLI); the worker fans one job out across processes: ``prepare`` once, ``store_chunk`` in one
message per chunk (on any worker), then ``deliver`` once all chunks are stored.
"""

from collections.abc import Callable

import attrs
import numpy as np

from voxregen_core import spec
from voxregen_core.audio_input import Stem
from voxregen_core.chunk_codec import encode_chunk
from voxregen_core.chunk_store import chunk_provenance, load_chunks, stored_chunk
from voxregen_core.chunking import ChunkPlan, plan_chunks
from voxregen_core.crossfade import stitch
from voxregen_core.errors import GeneratorError
from voxregen_core.export import encode_dual_mono_wav16
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.feature_lookup import lookup_features
from voxregen_core.features import Features
from voxregen_core.generator import ChunkFeatures
from voxregen_core.input_hash import check_unchanged
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import chunk_key
from voxregen_core.mastering import MasterResult, master
from voxregen_core.parallelism import in_background
from voxregen_core.ports import Clock, FeatureCacheRepository, Generator, ObjectStore
from voxregen_core.profiles import SingerProfile
from voxregen_core.stage_timer import StageTimer


@attrs.frozen(eq=False)
class PreparedStem:
    """A job's decoded input with its features and chunk plan: what every chunk needs."""

    stem: Stem
    input_hash: str
    features: Features
    feature_cache_entry: FeatureCacheEntry
    feature_cache_hit: bool
    plan: ChunkPlan

    def without_audio(self) -> "PreparedStem":
        """This stem with no samples (92 MB for 8 minutes): what a delivery needs, since it
        reads the stored chunks; dropping the samples first leaves their memory to it."""
        return attrs.evolve(self, stem=attrs.evolve(self.stem, audio=np.zeros(0, np.float32)))


@attrs.frozen(eq=False)
class Delivery:
    """The delivered file and what mastering measured."""

    output_wav: bytearray
    """48 kHz stereo dual-mono 16-bit PCM WAV."""
    mastered: MasterResult
    """What mastering measured; its ``pcm16`` is empty (the samples are in ``output_wav``)."""


def prepare(
    job: RenderJob,
    *,
    read_input: Callable[[], tuple[Stem, str]],
    store: ObjectStore,
    feature_cache: FeatureCacheRepository,
    clock: Clock,
    timer: StageTimer | None = None,
) -> PreparedStem:
    """Decode the job's input, find (or extract and cache) its features and plan its chunks.

    ``read_input`` decodes the uploaded WAV and returns it with its input hash
    (:func:`~voxregen_core.audio_input.read_opened_stem` of ``ObjectStore.open``: the file is
    read once, in blocks, decoded and hashed as it goes, and only the 48 kHz mid is held whole;
    the CLI starts it before the render's other libraries are loaded). Raises an :class:`~voxregen_core.errors.InvalidInputError` subclass for input that
    cannot be rendered, :class:`~voxregen_core.errors.InputChangedError` among them if the job
    has an input hash (a clone has its original's; a resumed job the one its first attempt
    computed) and the input no longer hashes to it. ``timer``, if given, gets the ``decode``
    and ``features`` laps.
    """
    timer = timer or StageTimer()
    stem, hash_hex = read_input()
    check_unchanged(hash_hex, expected=job.input_hash, key=job.input_object_key)
    timer.lap("decode")
    found = lookup_features(
        job, stem, input_hash=hash_hex, store=store, feature_cache=feature_cache, clock=clock
    )
    timer.lap("features")
    return PreparedStem(
        stem=stem,
        input_hash=hash_hex,
        features=found.features,
        feature_cache_entry=found.entry,
        feature_cache_hit=found.cache_hit,
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
    provenance = chunk_provenance(job, prepared.input_hash, profile, chunk_index)
    key = chunk_key(job.user_id, job.id, chunk_index)
    if stored_chunk(store, key, provenance, span.n_samples) is not None:
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
    # the chunks read and checked on another core while this one crossfades them
    stitched = stitch(in_background(load_chunks(job, plan, input_hash, profile, store)), plan)
    timer.lap("stitch")
    mastered = master(
        stitched,
        sample_rate_hz=spec.SAMPLE_RATE_HZ,
        target_lufs=job.params.target_lufs,
        ceiling_dbtp=job.params.true_peak_db,
        seed=ChunkFeatures.seed_for(job.id, plan.chunks_total, job.params),
        overwrite_x=True,  # band-limited in the stitch's own memory, not in a copy of it
    )
    del stitched
    timer.lap("master")
    output_wav = encode_dual_mono_wav16(mastered.pcm16, sample_rate_hz=spec.SAMPLE_RATE_HZ)
    timer.lap("export")
    # The samples are in the file now: its readings are kept, not a second 92 MB of them.
    measured = attrs.evolve(mastered, pcm16=np.zeros(0, np.int16))
    return Delivery(output_wav=output_wav, mastered=measured)


def _checked(audio: np.ndarray, request: ChunkFeatures) -> np.ndarray:
    """The generator's output as float32, once its shape and finiteness are checked."""
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
