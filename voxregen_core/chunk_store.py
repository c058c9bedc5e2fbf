"""A job's stored chunks: the provenance a chunk must carry to be reused, and reading them back.

Each chunk is stored under :func:`~voxregen_core.keys.chunk_key` as soon as it is generated
(:mod:`voxregen_core.chunk_codec`: a float32 WAV whose comment names its provenance after the
CRC-32 of its samples). A stored chunk counts only if its samples match that CRC and its
provenance (job, index, params, input, profile and the fingerprint of the profile's embedding)
and its length match this render's: a chunk made from other params, another input or an
embedding since rebuilt is never reused nor stitched.
"""

from collections.abc import Iterator

import numpy as np

from voxregen_core.chunk_codec import decode_chunk
from voxregen_core.chunking import ChunkPlan
from voxregen_core.errors import ChunkMissingError, ObjectNotFoundError
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import chunk_key
from voxregen_core.ports import ObjectStore
from voxregen_core.profiles import SingerProfile


def chunk_provenance(
    job: RenderJob, input_hash: str, profile: SingerProfile, chunk_index: int
) -> str:
    """What a stored chunk must have been made from to be reused."""
    return (
        f"{job.id}:{chunk_index}:{job.params.fingerprint()}:{input_hash}:{profile.id}"
        f":{profile.embedding_fingerprint}"
    )


def stored_chunk(
    store: ObjectStore, key: str, provenance: str, n_samples: int
) -> np.ndarray | None:
    """The chunk stored under ``key`` if it has ``provenance`` and ``n_samples``, else None.

    Returns np.ndarray [shape=(n_samples,)], float32, 48 kHz.
    """
    try:
        data = store.get(key)
    except ObjectNotFoundError:
        return None
    audio, stored_provenance = decode_chunk(data)
    if stored_provenance != provenance or audio.shape != (n_samples,):
        return None
    return audio


def load_chunks(
    job: RenderJob, plan: ChunkPlan, input_hash: str, profile: SingerProfile, store: ObjectStore
) -> Iterator[np.ndarray]:
    """Each stored chunk in order, checked against this render's provenance.

    Raises :class:`~voxregen_core.errors.ChunkMissingError` at the first chunk that is missing
    or was not made by this render.
    """
    for span in plan.spans:
        key = chunk_key(job.user_id, job.id, span.index)
        provenance = chunk_provenance(job, input_hash, profile, span.index)
        audio = stored_chunk(store, key, provenance, span.n_samples)
        if audio is None:
            raise ChunkMissingError(
                f"chunk {span.index} vanished or changed before stitching: {key}"
            )
        yield audio
