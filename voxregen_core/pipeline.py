"""The one-process render: every stage of :mod:`voxregen_core.stages` in order, over ports.

decode → features (cache) → chunks → stitch → master → export, with progress reported after
each chunk (the ``voxregen render`` CLI). The chunks are independent, so ``threads`` of them are
generated at once (NumPy releases the GIL in its loops). The worker runs the same stages fanned
out across processes instead (``voxregen_worker.render_job``).

The core never logs: :func:`render` reports progress through its port and returns the metrics.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import attrs

from voxregen_core.audio_input import Stem
from voxregen_core.feature_cache import FeatureCacheEntry
from voxregen_core.jobs import Progress, RenderJob
from voxregen_core.metrics import RenderMetrics, render_metrics
from voxregen_core.ports import (
    Clock,
    FeatureCacheRepository,
    Generator,
    ObjectStore,
    ProgressReporter,
)
from voxregen_core.profiles import SingerProfile
from voxregen_core.stage_timer import StageTimer
from voxregen_core.stages import deliver, prepare, store_chunk


@attrs.frozen
class RenderPorts:
    """What :func:`render` talks to."""

    store: ObjectStore
    feature_cache: FeatureCacheRepository
    generator: Generator
    progress: ProgressReporter
    clock: Clock


@attrs.frozen(eq=False)
class RenderOutcome:
    output_wav: bytearray
    """The delivered file: 48 kHz stereo dual-mono 16-bit PCM WAV."""
    input_hash: str
    feature_cache_entry: FeatureCacheEntry
    metrics: RenderMetrics


def render(
    job: RenderJob,
    *,
    read_input: Callable[[], tuple[Stem, str]],
    profile: SingerProfile,
    ports: RenderPorts,
    threads: int = 1,
) -> RenderOutcome:
    """Render ``job`` in this process and return the delivered WAV with its metrics.

    ``read_input`` decodes the uploaded WAV and returns it with its input hash
    (:func:`~voxregen_core.audio_input.read_opened_stem`: the file is read once, in blocks; an
    8-minute stem is up to 737 MB, and only its 48 kHz mid, 92 MB, is held whole). Raises an
    :class:`~voxregen_core.errors.InvalidInputError` subclass for input that cannot be
    rendered, before any chunk is generated. ``threads`` chunks are generated at a time;
    the output does not depend on it.
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
    pool = ThreadPoolExecutor(max_workers=max(1, threads))
    try:
        pending = [
            pool.submit(
                store_chunk,
                job,
                prepared,
                span.index,
                profile=profile,
                store=ports.store,
                generator=ports.generator,
            )
            for span in plan.spans
        ]
        for done, future in enumerate(pending, start=1):  # in order: the first chunk that
            reused += not future.result()  # fails is the one reported, whatever the timing
            ports.progress.report(Progress(chunks_done=done, chunks_total=plan.chunks_total))
    finally:  # chunks not yet started are not: the ones stored stay for a resume
        pool.shutdown(cancel_futures=True)
    timer.lap("chunks")

    # The decoded stem (92 MB for 8 minutes) is in the stored chunks now: let it go before
    # mastering and export hold their own full-length copies.
    features, hit, hash_hex, entry = (
        prepared.features,
        prepared.feature_cache_hit,
        prepared.input_hash,
        prepared.feature_cache_entry,
    )
    del prepared
    delivery = deliver(
        job, plan, input_hash=hash_hex, profile=profile, store=ports.store, timer=timer
    )
    metrics = render_metrics(
        plan,
        features,
        delivery.mastered,
        runtime_s=timer.total_s,
        feature_cache_hit=hit,
        chunks_reused=reused,
        stage_ms=timer.stage_ms,
    )
    return RenderOutcome(
        output_wav=delivery.output_wav,
        input_hash=hash_hex,
        feature_cache_entry=entry,
        metrics=metrics,
    )
