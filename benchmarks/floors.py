"""What one pass over a stem's bytes costs, the floor each render stage is measured against:

- ``start``: a Python process that imports nothing of ours (``python -c pass``) against one
  that imports what ``voxregen render`` imports;
- ``decode``: libsndfile reading the whole file to float32 (``soundfile.read``);
- ``pass``: one float32 pass over the 48 kHz mid (8 minutes: 23 M samples, ``x * 0.5``);
- ``encode``: the delivered file's bytes, interleaved from int16 and written (with fsync).

``python -m benchmarks.floors STEM.wav`` prints them as JSON, in seconds (best of 3), in a
process of its own so that the benchmark's stays small.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from voxregen_core import spec

RUNS = 3


def best_s(action) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def process_s(code: str) -> float:
    return best_s(lambda: subprocess.run([sys.executable, "-c", code], check=True))


def floors(stem: Path) -> dict[str, float]:
    frames = round(sf.info(stem).duration * spec.SAMPLE_RATE_HZ)
    mid = np.random.default_rng(0).standard_normal(frames).astype(np.float32)
    out = np.empty_like(mid)
    pcm16 = (mid * 3000).astype(np.int16)

    def encode() -> None:
        frames_ = np.empty((pcm16.shape[0], 2), np.int16)
        frames_[:, 0] = frames_[:, 1] = pcm16
        with tempfile.NamedTemporaryFile() as file:
            file.write(frames_.tobytes())
            file.flush()
            os.fsync(file.fileno())

    return {
        "start": process_s("pass"),
        # what `voxregen render` imports in all, part of it once the decode has started
        "imports": process_s(
            "import voxregen.cli.render, voxregen.composition.local_render, voxregen_core.pipeline"
        ),
        "decode": best_s(lambda: sf.read(stem, dtype="float32")),
        "pass": best_s(lambda: np.multiply(mid, np.float32(0.5), out=out)),
        "encode": best_s(encode),
    }


if __name__ == "__main__":
    print(json.dumps(floors(Path(sys.argv[1]))))
