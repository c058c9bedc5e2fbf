"""`make bench`: render an 8-minute 44.1 kHz 24-bit stereo stem with voxregen (cold, then warm)
and with `ffmpeg -af loudnorm=I=-18:TP=-1`, and write the figures to the top of
docs/benchmarks.md (its ``## `` sections, written by other benchmarks, are kept).

Each command runs as its own process, timed end to end (process start included, as a user
sees it); peak RSS comes from wait4(). Each is run RUNS times and the median is reported.
"""

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import attrs

from benchmarks.report import write_preamble
from tests.meters import ffmpeg_ebur128

RUNS = 3
STEM_S = 480.0
REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
VOXREGEN = str(Path(sys.executable).with_name("voxregen"))


@attrs.frozen
class Run:
    wall_s: float
    peak_rss_mb: float


def timed(command: list[str]) -> Run:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall_s = time.perf_counter() - started
    stderr = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed:\n{stderr}")
    return Run(wall_s=wall_s, peak_rss_mb=usage.ru_maxrss / 1024)


def median(runs: list[Run]) -> Run:
    return Run(
        wall_s=statistics.median(run.wall_s for run in runs),
        peak_rss_mb=max(run.peak_rss_mb for run in runs),
    )


def write_stem(path: Path) -> None:
    """In a child process: ru_maxrss of a forked child counts the parent's pages until exec,
    so the parent must stay small for the RSS figures to be the commands' own."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.signals",
            str(path),
            "--seconds",
            str(STEM_S),
            "--rate",
            "44100",
            "--stereo",
            "--subtype",
            "PCM_24",
            "--seed",
            "11",
            "--consonants",
        ],
        check=True,
    )


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} cores ({model}), {memory_kb / 2**20:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("make bench needs ffmpeg (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        stem = work / "stem-8min-44k1-24bit-stereo.wav"
        write_stem(stem)
        cold, warm, loudnorm = [], [], []
        for run in range(RUNS):
            cache = work / f"cache-{run}"
            render = [
                VOXREGEN,
                "render",
                str(stem),
                "-o",
                str(work / "out.wav"),
                "--cache-dir",
                str(cache),
            ]
            cold.append(timed([*render, "--job-id", str(uuid.uuid4())]))
            warm.append(timed([*render, "--job-id", str(uuid.uuid4())]))
            loudnorm.append(
                timed(
                    [
                        ffmpeg,
                        "-nostdin",
                        "-y",
                        "-loglevel",
                        "error",
                        "-i",
                        str(stem),
                        "-af",
                        "loudnorm=I=-18:TP=-1",
                        str(work / "ffmpeg.wav"),
                    ]
                )
            )
        ours, theirs = ffmpeg_ebur128(work / "out.wav"), ffmpeg_ebur128(work / "ffmpeg.wav")
        stem_mb = stem.stat().st_size / 1e6
    cold_m, warm_m, ff_m = median(cold), median(warm), median(loudnorm)
    ratio = cold_m.wall_s / ff_m.wall_s
    rows = [
        (
            "voxregen render, cold (features extracted)",
            cold_m,
            f"{ours.integrated_lufs:.2f} LUFS, {ours.true_peak_dbtp:.2f} dBTP",
        ),
        ("voxregen render, warm (features from cache)", warm_m, "same"),
        (
            "ffmpeg -af loudnorm=I=-18:TP=-1",
            ff_m,
            f"{theirs.integrated_lufs:.2f} LUFS, {theirs.true_peak_dbtp:.2f} dBTP",
        ),
    ]
    table = "\n".join(
        f"| {name} | {run.wall_s:.2f} | {run.peak_rss_mb:.0f} | {reading} |"
        for name, run, reading in rows
    )
    verdict = lambda ok: "met" if ok else "**NOT met**"  # noqa: E731
    write_preamble(
        REPORT,
        f"""# Benchmarks

Written by `make bench` (`python -m benchmarks.bench_render`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

- Machine: {machine()}
- Input: an 8-minute synthetic vocal stem (harmonic notes with vibrato and glides, breaths,
  silences, and plosive/sibilant transients every ~1.5 s so the true-peak limiter has work to
  do, as with a real vocal), 44.1 kHz, 24-bit PCM, stereo ({stem_mb:.0f} MB):
  `python -m tests.signals STEM.wav --seconds 480 --rate 44100 --stereo --subtype PCM_24
  --seed 11 --consonants`.
- Each command is a fresh process timed end to end (start-up included); median of {RUNS} runs;
  peak RSS is the largest of the runs (`ru_maxrss` from `wait4`; the benchmark process itself
  stays small, since a forked child counts its parent's pages until it execs). Readings of the outputs by ffmpeg's
  `ebur128=peak=true` (an independent meter).

| command | wall time (s) | peak RSS (MB) | output reading (ffmpeg ebur128) |
|---|---|---|---|
{table}

- Cold render / ffmpeg loudnorm wall time: **{ratio:.2f}x** (target ≤ 0.5x: {verdict(ratio <= 0.5)}).
- Cold render peak RSS: **{cold_m.peak_rss_mb:.0f} MB** (target < 600 MB: {verdict(cold_m.peak_rss_mb < 600)}).
- Warm re-render: **{warm_m.wall_s:.2f} s**, {100 * (1 - warm_m.wall_s / cold_m.wall_s):.0f}% faster than cold.

Note: ffmpeg's loudnorm writes 192 kHz output by default (its internal rate); voxregen writes
48 kHz 16-bit dual-mono as the product requires.
""",
    )
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
