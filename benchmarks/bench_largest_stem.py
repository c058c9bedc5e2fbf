"""`python -m benchmarks.bench_largest_stem`: the largest stem voxregen accepts (8:00, 192 kHz,
stereo, 32-bit float WAV: 737 MB), rendered by ``voxregen render`` and by the service (the API
and one worker as real processes over PostgreSQL, Redis and moto's S3 server, as
``make load`` runs them), with the peak RSS of the CLI and of the worker; the figures go into
the "The largest accepted stem" section of docs/benchmarks.md and are printed.

``--code DIR`` runs every voxregen process from the source in DIR instead (say, ``git archive
main`` unpacked there) for a before/after comparison; the figures are then only printed.

Heavy (a 737 MB stem, written, uploaded and rendered twice): run it by hand, once.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_render import REPORT, VOXREGEN, Run, timed
from benchmarks.load import render_streamed, running_stack
from benchmarks.report import machine, write_section
from voxregen_core import spec

SECTION = "## The largest accepted stem"
RATE_HZ = 192_000
RENDER_TIMEOUT_S = 900.0
STEM_COMMAND = (
    f"python -m tests.signals STEM.wav --seconds {spec.MAX_INPUT_S:.0f} --rate {RATE_HZ} "
    "--stereo --subtype FLOAT --seed 11 --consonants"
)


def write_stem(path: Path) -> None:
    """In a child process, so that this one stays small (see bench_render.write_stem)."""
    command = STEM_COMMAND.replace("python", sys.executable, 1).replace("STEM.wav", str(path))
    subprocess.run(command.split(), check=True)


def render_with_the_cli(stem: Path, work: Path) -> Run:
    output, cache = work / "cli-out.wav", work / "cli-cache"
    return timed([VOXREGEN, "render", str(stem), "-o", str(output), "--cache-dir", str(cache)])


def render_with_the_service(stem: Path) -> Run:
    """One job of ``stem``, uploaded through its presigned URL as a client would (streamed from
    the file): its runtime (the job's ``runtime_sec``, from running to delivered) and the
    worker's peak RSS (``VmHWM``, read before the worker is stopped)."""
    with running_stack(1, {}) as stack:
        job, _ = render_streamed(stack, stem, timeout_s=RENDER_TIMEOUT_S, poll_s=1.0)
        return Run(
            wall_s=job["metrics"]["runtime_sec"],
            peak_rss_mb=_peak_rss_mb(stack.workers[0].popen.pid),
        )


def _peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) / 1024  # kB, to MB as ru_maxrss is read in bench_render


def section(*, stem_mb: float, cli: Run, worker: Run) -> str:
    return f"""{SECTION}

Written by `python -m benchmarks.bench_largest_stem` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

- Machine: {machine()}
- Input: the largest stem voxregen accepts, 8:00 at 192 kHz, stereo, 32-bit float
  ({stem_mb:.0f} MB): `{STEM_COMMAND}`.
- `voxregen render STEM.wav -o OUT.wav --cache-dir CACHE` as a fresh process (peak RSS:
  `ru_maxrss` from `wait4`), once; and the service (`voxregen api`, one `voxregen worker`, moto's
  S3 server, PostgreSQL and Redis, as `make load` runs them): the stem uploaded to its presigned
  URL, one render job: its `runtime_sec` and the worker's peak RSS (`VmHWM` in
  `/proc/PID/status`) once it is done.

| renderer | wall time (s) | peak RSS (MB) |
|---|---|---|
| voxregen render (cold: features extracted) | {cli.wall_s:.1f} | {cli.peak_rss_mb:.0f} |
| voxregen worker (the job: decode, features, chunks, delivery) | {worker.wall_s:.1f} | {worker.peak_rss_mb:.0f} |

Target: peak RSS ≤ 600 MB for both.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, help="run voxregen from the source in this folder")
    args = parser.parse_args()
    if args.code is not None:
        os.environ["PYTHONPATH"] = str(args.code.resolve())  # every child imports it first
    with tempfile.TemporaryDirectory(prefix="voxregen-largest-") as folder:
        work = Path(folder)
        stem = work / f"stem-{uuid.uuid4().hex[:8]}-8min-192k-float-stereo.wav"
        write_stem(stem)
        stem_mb = stem.stat().st_size / 1e6
        cli = render_with_the_cli(stem, work)
        worker = render_with_the_service(stem)
    text = section(stem_mb=stem_mb, cli=cli, worker=worker)
    if args.code is None:
        write_section(REPORT, SECTION, text, title="# Benchmarks")
    print(text)


if __name__ == "__main__":
    main()
