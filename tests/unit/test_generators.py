"""The worker's generator as its settings build it: the device reaches the factory, and the
stub's per-chunk time makes each chunk take at least that long without changing its audio, one
chunk at a time in a process."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.signals import synthetic_singing
from voxregen.composition.service_parts import build_generator
from voxregen_adapters.paced_generator import PacedGenerator
from voxregen_adapters.settings import WorkerSettings
from voxregen_core.features import extract_features
from voxregen_core.generator import ChunkFeatures, Device
from voxregen_core.params import RenderParams
from voxregen_core.ports import Generator
from voxregen_core.profiles import ProfileStatus, SingerProfile
from voxregen_core.stub_generator import StubGenerator

PROFILE = SingerProfile(
    id=uuid.uuid4(), user_id=uuid.uuid4(), name="Ada", status=ProfileStatus.READY
)
AUDIO = synthetic_singing(0.5, seed=1).audio.astype(np.float32)
CHUNK = ChunkFeatures(
    audio=AUDIO,
    features=extract_features(AUDIO, sample_rate_hz=48_000),
    job_id=uuid.uuid4(),
    chunk_index=0,
    seed=1,
)


@pytest.mark.parametrize("device", list(Device))
def test_the_device_setting_reaches_the_generator_factory(device):
    built = []

    def factory(device: Device) -> Generator:
        built.append(device)
        return StubGenerator(device)

    generator = build_generator(WorkerSettings(model_device=device), factory=factory)
    assert built == [device] and generator.device is device
    assert isinstance(generator, Generator)


def test_without_a_stub_time_the_generator_is_the_stub_itself():
    assert type(build_generator(WorkerSettings())) is StubGenerator


def test_the_stub_time_paces_each_chunk_and_keeps_its_audio():
    paced = build_generator(WorkerSettings(stub_seconds_per_chunk=0.2))
    assert isinstance(paced, PacedGenerator) and paced.device is Device.CPU
    started = time.monotonic()
    audio = paced.generate_chunk(CHUNK, PROFILE, RenderParams())
    assert time.monotonic() - started >= 0.2
    assert np.array_equal(audio, StubGenerator().generate_chunk(CHUNK, PROFILE, RenderParams()))


class _Watched(StubGenerator):
    """The stub, counting how many of its calls run at once."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.running = self.most_running = 0

    def generate_chunk(self, features, singer_profile, params):
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            time.sleep(0.02)  # an unpaced caller would come in meanwhile
            return super().generate_chunk(features, singer_profile, params)
        finally:
            with self._lock:
                self.running -= 1


def test_paced_chunks_asked_for_by_several_threads_run_one_at_a_time_as_on_one_gpu():
    inner = _Watched()
    paced = PacedGenerator(inner, seconds_per_chunk=0.05)
    with ThreadPoolExecutor(4) as pool:
        outputs = list(
            pool.map(lambda _: paced.generate_chunk(CHUNK, PROFILE, RenderParams()), range(8))
        )
    assert inner.most_running == 1
    expected = StubGenerator().generate_chunk(CHUNK, PROFILE, RenderParams())
    assert all(np.array_equal(audio, expected) for audio in outputs)
