"""What the model integration interface passes around: the chunk a generator gets, the device.

The interface itself is the :class:`~voxregen_core.ports.Generator` port, one function,
``generate_chunk``: the seam where the machine-learning singer model replaces the v1 stub
(:mod:`voxregen_core.stub_generator`). A model author implements that port; nothing else in
the pipeline changes.

Contract for implementers
-------------------------
- Input audio and output audio are mono float32 at 48 kHz (:data:`spec.SAMPLE_RATE_HZ`),
  nominally within [-1, 1]; output may exceed ±1 (mastering handles level and peaks).
- The output has exactly as many samples as ``chunk.audio`` (the chunk is 18 s, or shorter
  for the last one); the pipeline rejects anything else.
- Determinism: identical ``(chunk.job_id, chunk.chunk_index, params)`` with identical input must
  give identical output. Draw any randomness from ``chunk.seed`` only (it is derived from those
  three), never from global state, wall time or the device.
- Chunks overlap by 2 s and are crossfaded afterwards: a model should render the overlap as it
  renders the rest, without fading its edges.
- The device (:class:`Device`) is chosen by the operator (``VOXREGEN_MODEL_DEVICE``) and given
  to the generator when it is built (:data:`~voxregen_core.ports.GeneratorFactory`); a model
  loads its weights there.
  ``generate_chunk`` raises an exception (never returns NaN) on failure.
- Thread safety: ``generate_chunk`` may be called from several threads at once (``voxregen
  render`` generates a job's chunks on every core; a model's inference in eval mode, with no
  state kept between calls, is). A generator that cannot be must serialize its own calls
  (a lock around its model).
"""

import enum
import hashlib
import uuid

import attrs
import numpy as np

from voxregen_core.features import Features
from voxregen_core.params import RenderParams


class Device(enum.StrEnum):
    """Where a generator runs its model."""

    CPU = "cpu"
    CUDA = "cuda"


@attrs.frozen(eq=False)
class ChunkFeatures:
    """Everything a generator gets about one chunk of a stem.

    audio : np.ndarray [shape=(n_samples,)], float32, 48 kHz mono mid of the input stem
    features : the stem's features (:data:`spec.FEATURE_VERSION`) for this chunk's samples
    """

    audio: np.ndarray
    features: Features
    job_id: uuid.UUID
    chunk_index: int
    seed: int

    @staticmethod
    def seed_for(job_id: uuid.UUID, chunk_index: int, params: RenderParams) -> int:
        """64-bit seed derived from ``(job_id, chunk_index, params)`` alone."""
        material = f"{job_id}:{chunk_index}:{params.fingerprint()}".encode()
        return int.from_bytes(hashlib.sha256(material).digest()[:8], "little")
