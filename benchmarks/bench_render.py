"""`make bench`'s first part: render an 8-minute 44.1 kHz 24-bit stereo stem with voxregen
(cold, then warm) and with `ffmpeg -af loudnorm=I=-18:TP=-1`, alternating, on both cores and on
one (``taskset -c 0``); the cold renders' stages against their floors (:mod:`benchmarks.floors`);
and the same stem through the service (upload to ``done``). The figures go to the top of
docs/benchmarks.md (its ``## `` sections, written by the other benchmarks, are kept).

Each command runs as its own process, timed end to end (process start included, as a user
sees it); peak RSS comes from wait4(). Each is run RUNS times and the median is reported.
"""

import json
import os
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

from benchmarks.load import render_streamed, running_stack
from benchmarks.report import machine, write_preamble
from tests.meters import ffmpeg_ebur128

RUNS = 5
STEM_S = 480.0
REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
VOXREGEN = str(Path(sys.executable).with_name("voxregen"))


STAGES = ("decode", "features", "chunks", "stitch", "master", "export")
FLOOR_OF_STAGE = {
    "decode": "decode",
    "features": "pass",
    "chunks": "pass",
    "stitch": "pass",
    "master": "pass",
    "export": "encode",
}
TARGETS = {"cold": 0.20, "warm": 0.12}
"""Wall time over ffmpeg loudnorm's, issue 11."""
MAX_PEAK_RSS_MB = 350
MAX_SERVICE_OVERHEAD_S = 1.0
ONE_CORE = ["taskset", "-c", "0"]


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


@attrs.frozen
class Side:
    """One core count's runs: cold and warm renders, ffmpeg, and the cold renders' stages."""

    cold: Run
    warm: Run
    loudnorm: Run
    stage_ms: dict[str, float]


def side(stem: Path, work: Path, *, prefix: list[str]) -> Side:
    ffmpeg = shutil.which("ffmpeg")
    cold, warm, loudnorm, stages = [], [], [], []
    for run in range(RUNS):
        cache = work / f"cache-{len(prefix)}-{run}"
        metrics = work / "metrics.json"
        render = [*prefix, VOXREGEN, "render", str(stem), "-o", str(work / "out.wav")]
        render += ["--cache-dir", str(cache)]
        cold.append(timed([*render, "--job-id", str(uuid.uuid4()), "--metrics", str(metrics)]))
        stages.append(json.loads(metrics.read_text())["stage_ms"])
        warm.append(timed([*render, "--job-id", str(uuid.uuid4())]))
        loudnorm.append(
            timed(
                [
                    *prefix,
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
    return Side(
        cold=median(cold),
        warm=median(warm),
        loudnorm=median(loudnorm),
        stage_ms={name: statistics.median(run[name] for run in stages) for name in STAGES},
    )


def service_wall_s(stem: Path) -> float:
    """Upload to ``done`` through the service: the API and one worker as processes over the
    local object store, what ``voxregen serve`` supervises (the stub's per-chunk time 0): the stem
    streamed to its presigned URL, the job created, polled every 0.1 s."""
    with running_stack(1, {}, local_store=True) as stack:
        return render_streamed(stack, stem, timeout_s=300.0, poll_s=0.1)[1]


def measured_floors(stem: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.floors", str(stem)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def side_lines(name: str, figures: Side) -> list[str]:
    lines = []
    for kind in ("cold", "warm"):
        ratio = getattr(figures, kind).wall_s / figures.loudnorm.wall_s
        lines.append(
            f"- {name}, {kind} render / ffmpeg loudnorm: **{ratio:.2f}x** "
            f"(target ≤ {TARGETS[kind]:.2f}x: {verdict(ratio <= TARGETS[kind])})."
        )
    rss = figures.cold.peak_rss_mb
    lines.append(
        f"- {name}, cold render peak RSS: **{rss:.0f} MB** "
        f"(target ≤ {MAX_PEAK_RSS_MB} MB: {verdict(rss <= MAX_PEAK_RSS_MB)})."
    )
    return lines


def stage_table(figures: Side, floors: dict[str, float]) -> str:
    rows = [
        "| stage | time (ms) | floor (ms) | floor is | time / floor |",
        "|---|---|---|---|---|",
    ]
    imports_ms, start_ms = 1000 * floors["imports"], 1000 * floors["start"]
    rows.append(
        f"| start and imports (the decode starts beside them) | {imports_ms:.0f} | "
        f"{start_ms:.0f} | `python -c pass` | {imports_ms / start_ms:.0f} |"
    )
    for stage in STAGES:
        kind = FLOOR_OF_STAGE[stage]
        floor_ms = 1000 * floors[kind]
        described = {
            "decode": "libsndfile reading the file to float32 (the time: the decode's part "
            "left once the imports are done)",
            "pass": "one float32 pass over the 48 kHz mid",
            "encode": "the delivered bytes interleaved and written",
        }[kind]
        time_ms = figures.stage_ms[stage]
        rows.append(
            f"| {stage} | {time_ms:.0f} | {floor_ms:.0f} | {described} | {time_ms / floor_ms:.0f} |"
        )
    return "\n".join(rows)


def main() -> None:
    if shutil.which("ffmpeg") is None:
        raise SystemExit("make bench needs ffmpeg (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        stem = work / "stem-8min-44k1-24bit-stereo.wav"
        write_stem(stem)
        both = side(stem, work, prefix=[])
        ours, theirs = ffmpeg_ebur128(work / "out.wav"), ffmpeg_ebur128(work / "ffmpeg.wav")
        one = side(stem, work, prefix=ONE_CORE)
        floors = measured_floors(stem)
        service_s = statistics.median(service_wall_s(stem) for _ in range(RUNS))
        stem_mb = stem.stat().st_size / 1e6
    rows = [
        (
            "voxregen render, cold (features extracted)",
            both.cold,
            one.cold,
            f"{ours.integrated_lufs:.2f} LUFS, {ours.true_peak_dbtp:.2f} dBTP",
        ),
        ("voxregen render, warm (features from cache)", both.warm, one.warm, "same"),
        (
            "ffmpeg -af loudnorm=I=-18:TP=-1",
            both.loudnorm,
            one.loudnorm,
            f"{theirs.integrated_lufs:.2f} LUFS, {theirs.true_peak_dbtp:.2f} dBTP",
        ),
    ]
    table = "\n".join(
        f"| {name} | {two.wall_s:.2f} | {single.wall_s:.2f} | {two.peak_rss_mb:.0f} | {reading} |"
        for name, two, single, reading in rows
    )
    overhead_s = service_s - both.cold.wall_s
    summary = "\n".join([*side_lines("Two cores", both), *side_lines("One core", one)])
    write_preamble(
        REPORT,
        f"""# Benchmarks

Written by `make bench` (`python -m benchmarks.bench_render`, then the sections below) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

- Machine: {machine()}
- Input: an 8-minute synthetic vocal stem (harmonic notes with vibrato and glides, breaths,
  silences, and plosive/sibilant transients every ~1.5 s so the true-peak limiter has work to
  do, as with a real vocal), 44.1 kHz, 24-bit PCM, stereo ({stem_mb:.0f} MB):
  `python -m tests.signals STEM.wav --seconds 480 --rate 44100 --stereo --subtype PCM_24
  --seed 11 --consonants`.
- Each command is a fresh process timed end to end (start-up included); cold, warm and ffmpeg
  alternate, median of {RUNS} runs each; once on both cores, once on one (`taskset -c 0`).
  Peak RSS is the largest of the runs (`ru_maxrss` from `wait4`; the benchmark process itself
  stays small, since a forked child counts its parent's pages until it execs). Readings of the
  outputs by ffmpeg's `ebur128=peak=true` (an independent meter).

| command | wall time, 2 cores (s) | wall time, 1 core (s) | peak RSS (MB) | output reading (ffmpeg ebur128) |
|---|---|---|---|---|
{table}

{summary}
- Through the service: `voxregen api` and one `voxregen worker` as processes over PostgreSQL,
  Redis and the local object store, which is what `voxregen serve` supervises (here the
  servers are the machine's, not serve's embedded ones); stub time 0: upload to `done` **{service_s:.2f} s**
  (median of {RUNS}),
  the CLI's cold render {both.cold.wall_s:.2f} s: **{overhead_s:+.2f} s** over it (target ≤
  {MAX_SERVICE_OVERHEAD_S:.1f} s: {verdict(overhead_s <= MAX_SERVICE_OVERHEAD_S)}).

Where a cold render's time goes (two cores, `--metrics` `stage_ms`, median of {RUNS}), against
what one pass over the bytes costs (`python -m benchmarks.floors STEM.wav`, best of 3):

{stage_table(both, floors)}

Note: ffmpeg's loudnorm writes 192 kHz output by default (its internal rate); voxregen writes
48 kHz 16-bit dual-mono as the product requires.
""",
    )
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
