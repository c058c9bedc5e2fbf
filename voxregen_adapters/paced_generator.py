"""A generator made to take a fixed wall time per chunk: ``VOXREGEN_STUB_SECONDS_PER_CHUNK``
paces the stub so that each chunk takes at least that long, standing in for a model's GPU time
(tests and load runs use it to interrupt and measure real work). Its chunks run one at a time
in a process, as on one GPU, however many worker threads ask for them."""

import threading
import time

import numpy as np

from voxregen_core.generator import ChunkFeatures, Device
from voxregen_core.params import RenderParams
from voxregen_core.ports import Generator
from voxregen_core.profiles import SingerProfile


class PacedGenerator:
    """``inner``, made to take at least ``seconds_per_chunk`` of wall time per chunk (it
    sleeps whatever the chunk's computation left of it), one chunk at a time (a caller waits
    for the chunk in hand to finish); the output is ``inner``'s."""

    def __init__(self, inner: Generator, *, seconds_per_chunk: float) -> None:
        self._inner = inner
        self._seconds_per_chunk = seconds_per_chunk
        self._device = threading.Lock()

    @property
    def device(self) -> Device:
        return self._inner.device

    def generate_chunk(
        self, features: ChunkFeatures, singer_profile: SingerProfile, params: RenderParams
    ) -> np.ndarray:
        with self._device:
            started = time.monotonic()
            audio = self._inner.generate_chunk(features, singer_profile, params)
            time.sleep(max(0.0, self._seconds_per_chunk - (time.monotonic() - started)))
        return audio
