"""`make load`: the service under load, as real processes (``voxregen api`` and one or two
``voxregen worker``) over PostgreSQL and Redis on this machine and moto's S3 server; the
figures go into the "Load and scale" section of docs/reliability.md and are printed.

1. A burst: ``BURST_JOBS`` short jobs (4 to 20 s stems) created at once on two workers, while
   ``POLLERS`` threads hammer ``GET /v1/render-jobs/{id}``: throughput and the GET latency.
2. One 8-minute job with the stub generator paced to ``SECONDS_PER_CHUNK`` a chunk (standing
   in for GPU time), on one and then two workers: wall time, which worker generated which
   chunks, and how often it was stitched and delivered.

PostgreSQL and Redis: ``VOXREGEN_TEST_DATABASE_URL`` (a maintenance database; a fresh one is
created and dropped) and ``VOXREGEN_TEST_REDIS_URL`` (a free database index 1-15 is claimed),
by default the local servers with the tests' URLs.
"""

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from benchmarks.load_scenarios import (
    BurstRun,
    SpreadRun,
    burst_wavs,
    logged_at,
    percentile,
    run_burst,
    run_spread,
)
from benchmarks.report import machine, write_section
from tests.e2e.stack import (
    STEM_RATE_HZ,
    Stack,
    claimed_redis,
    free_port,
    s3_storage_url,
    singing_wav,
    wait_for,
)

BURST_JOBS = 50
WORKERS = 2
POLLERS = 4
LONG_STEM_S = 480.0
SECONDS_PER_CHUNK = 2.0
TIMEOUT_S = 600.0
REPORT = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
SECTION = "## Load and scale"
DATABASE_URL = os.environ.get(
    "VOXREGEN_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("VOXREGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SIGNING_KEY = "benchmark-signing-key-0123456789abcdef"
"""For the local object store's signed URLs (``running_stack(local_store=True)``)."""


@contextlib.contextmanager
def running_stack(
    workers: int, worker_env: dict[str, str], *, local_store: bool = False
) -> Iterator[Stack]:
    """The API and ``workers`` worker processes (each with ``worker_env``) over a fresh
    database, a claimed Redis database and moto's S3 server, or with ``local_store`` the local
    object store in a folder (as ``voxregen serve`` runs them); all gone afterwards."""
    with contextlib.ExitStack() as running:
        folder = Path(running.enter_context(tempfile.TemporaryDirectory(prefix="voxregen-load-")))
        database_url = running.enter_context(_fresh_database(DATABASE_URL))
        redis_url = running.enter_context(claimed_redis(REDIS_URL))
        if local_store:
            storage_url, env = (folder / "store").as_uri(), {"VOXREGEN_SIGNING_KEY": SIGNING_KEY}
        else:
            storage_url, env = s3_storage_url(running.enter_context(_moto_server())), {}
        stack = running.enter_context(
            Stack(
                database_url=database_url,
                redis_url=redis_url,
                storage_url=storage_url,
                work_dir=folder,
                env=env,
            )
        )
        stack.start_api()
        for _ in range(workers):
            stack.start_worker(worker_env)
        yield stack


def render_streamed(
    stack: Stack, stem: Path, *, timeout_s: float, poll_s: float
) -> tuple[dict[str, Any], float]:
    """One render job of ``stem`` for a new user with a ready profile, the stem streamed from
    its file to the presigned URL as a client would: the job as it finished and the seconds from
    the upload's start to then. Exits with the stack's logs if the job failed."""
    user = stack.user()
    profile_id = user.ready_profile()
    upload = user.post("/v1/render-jobs:prepare-upload").json()
    started = time.perf_counter()
    with stem.open("rb") as file:
        httpx.put(upload["upload_url"], content=file, timeout=timeout_s).raise_for_status()
    job_id = user.create_job(profile_id, upload["object_key"])["id"]
    job = user.finished(job_id, timeout_s=timeout_s, poll_s=poll_s)[-1]
    wall_s = time.perf_counter() - started
    if job["status"] != "done":
        raise SystemExit(f"the job failed: {job.get('error')}\n{stack.logs()}")
    return job, wall_s


@contextlib.contextmanager
def _moto_server() -> Iterator[str]:
    """moto's S3 server as a process of its own (in this one, it would take the GIL from the
    threads timing the requests); its ``host:port``."""
    endpoint = f"127.0.0.1:{free_port()}"
    host, port = endpoint.split(":")
    moto = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", host, "-p", port],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(f"http://{endpoint}"), what="moto_server", timeout_s=30.0)
        yield endpoint
    finally:
        moto.terminate()
        moto.wait(timeout=15.0)


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2.0)
    except httpx.TransportError:
        return False
    return True


@contextlib.contextmanager
def _fresh_database(admin_url: str) -> Iterator[str]:
    name = f"voxregen_load_{uuid.uuid4().hex}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def burst() -> tuple[BurstRun, list[float]]:
    """The run, and the API's own time for each ``GET`` job request (its request log's
    ``elapsed_ms``: the poller's requests are the only ones to that path)."""
    wavs = burst_wavs(BURST_JOBS)
    with running_stack(WORKERS, {}) as stack:
        run = run_burst(stack.user(), wavs, pollers=POLLERS, timeout_s=TIMEOUT_S)
        (api,) = [process for process in stack.processes if process.name == "api"]
        served_ms = [
            line["elapsed_ms"]
            for line in api.events("request")
            if line["method"] == "GET" and line["path"].startswith("/v1/render-jobs/")
        ]
    statuses = [job["status"] for job in run.jobs.values()]
    if statuses.count("done") != BURST_JOBS:
        raise SystemExit(f"not every job is done: {statuses}")
    return run, served_ms


def spread(workers: int) -> SpreadRun:
    pace = {"VOXREGEN_STUB_SECONDS_PER_CHUNK": str(SECONDS_PER_CHUNK)}
    with running_stack(workers, pace) as stack:
        run = run_spread(
            stack, stack.user(), singing_wav(LONG_STEM_S, seed=11), timeout_s=TIMEOUT_S
        )
    if run.job["status"] != "done":
        raise SystemExit(f"the long job did not end done: {run.job}")
    return run


def burst_section(run: BurstRun, served_ms: list[float]) -> str:
    durations_s = sorted(n / STEM_RATE_HZ for n in run.input_frames.values())
    chunks = sum(job["progress"]["chunks_total"] for job in run.jobs.values())
    done = sum(job["status"] == "done" for job in run.jobs.values())
    requests = len(run.get_latencies_s)
    return f"""### {BURST_JOBS} jobs at once on {WORKERS} worker processes

{BURST_JOBS} render jobs created at once (a thread per request) by one user, of stems from
{durations_s[0]:.0f} to {durations_s[-1]:.0f} s (synthetic singing, 44.1 kHz 24-bit stereo;
{run.audio_s:.0f} s of audio, {chunks} chunks in all), the stub generator unpaced. Meanwhile
{POLLERS} threads sent `GET /v1/render-jobs/{{id}}` back to back, each on a connection of its
own, round-robin over the unfinished jobs, until every job was seen finished.

| figure | value |
|---|---|
| jobs done | **{done} of {BURST_JOBS}**: none failed, lost or stuck |
| wall time, first create request to the last job seen done | {run.wall_s:.1f} s |
| throughput | **{60.0 * done / run.wall_s:.0f} jobs/min**; **{run.audio_s / run.wall_s:.1f} s of audio rendered per wall second** |
| `GET` job requests meanwhile | {requests} ({requests / run.wall_s:.0f} per second) |
| `GET` job latency, client side | **p50 {run.latency_ms(50):.1f} ms, p99 {run.latency_ms(99):.1f} ms** (max {run.latency_ms(100):.1f} ms) |
| `GET` job time in the API (its request log) | p50 {percentile(served_ms, 50):.1f} ms, p99 {percentile(served_ms, 99):.1f} ms (max {max(served_ms):.1f} ms) |
"""


def _phases_s(run: SpreadRun) -> tuple[float, float, float]:
    """From the workers' log timestamps (one machine, one clock): preparing (``render_job``
    started to fanned out), generating (fanned out to the last chunk recorded) and delivering
    (to ``render_job_done``), in seconds."""
    (started,) = run.events.lines("render_job_started")
    (fanned_out,) = run.events.lines("render_job_fanned_out")
    (done,) = run.events.lines("render_job_done")
    last_chunk = max(logged_at(line) for line in run.events.lines("render_chunk"))
    return (
        (logged_at(fanned_out) - logged_at(started)).total_seconds(),
        (last_chunk - logged_at(fanned_out)).total_seconds(),
        (logged_at(done) - last_chunk).total_seconds(),
    )


def spread_section(runs: dict[int, SpreadRun]) -> str:
    rows = "\n".join(
        f"| {workers} | **{run.wall_s:.1f}** | "
        + " / ".join(map(str, run.events.count("render_chunk", generated=True).values()))
        + f" | {run.events.total('render_job_done')} | "
        f"{run.events.total('render_stage', stage='stitch')} | "
        + " / ".join(f"{phase_s:.1f}" for phase_s in _phases_s(run))
        + " |"
        for workers, run in runs.items()
    )
    chunks = runs[1].job["progress"]["chunks_total"]
    return f"""### One {LONG_STEM_S / 60:.0f}-minute job on one and on two worker processes

One job of an {LONG_STEM_S / 60:.0f}-minute stem (synthetic singing, 44.1 kHz 24-bit stereo,
{chunks} chunks) with `VOXREGEN_STUB_SECONDS_PER_CHUNK={SECONDS_PER_CHUNK:g}`: each chunk takes
at least {SECONDS_PER_CHUNK:g} s, standing in for GPU time. `render_job` prepares the stem
(decode, features) and queues one `render_chunk` message per chunk; each worker process
generates the chunks it takes (two threads, its paced chunks one at a time, as on one GPU); the one that records the last chunk stitches, masters
and uploads. Counted in the workers' JSON logs: chunks generated per process are its
`render_chunk` lines with `generated: true`; deliveries are `render_job_done` lines and
stitches `render_stage` lines with `stage: stitch`, over all processes. The phases come from
the log lines' timestamps: `render_job_started` to `render_job_fanned_out` (prepare), to the
last `render_chunk` (chunks), to `render_job_done` (stitch, master, upload).

| worker processes | wall time, create to done seen (s) | chunks generated by worker-1 / worker-2 | `render_job_done` | `stage=stitch` | prepare / chunks / deliver (s) |
|---|---|---|---|---|---|
{rows}

Two worker processes render the job **{runs[1].wall_s / runs[2].wall_s:.2f}x** as fast as
one: generating the chunks alone takes {chunks * SECONDS_PER_CHUNK:.0f} s on one and
{chunks * SECONDS_PER_CHUNK / 2:.0f} s on two; preparing and delivering happen once per job, in
one process, whatever the number of workers; and the second worker prepares the stem again
for itself (decode; features from the cache) before its first chunk.
"""


def section(
    burst_run: tuple[BurstRun, list[float]],
    spread_runs: dict[int, SpreadRun],
    *,
    load_average: float,
) -> str:
    return reflowed(f"""{SECTION}

Written by `make load` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.

- Machine: {machine()}; no GPU (the stub generator runs on the CPU); load average
  {load_average:.1f} when the run began (the machine is shared).
- Command: `make load` (that is, `.venv/bin/python -m benchmarks.load`) in a clone after
  `make install`, with PostgreSQL and Redis on localhost (`VOXREGEN_TEST_DATABASE_URL` and
  `VOXREGEN_TEST_REDIS_URL` if set, else `postgres@127.0.0.1:5432` and `127.0.0.1:6379`). It
  starts `voxregen api` and the `voxregen worker` processes itself (tests/e2e/stack.py) over a
  fresh database, a free Redis database index and moto's S3 server (`moto_server`, a process
  of its own), and stops them after each run. The load comes from the same machine: the
  client's threads share its two cores with the service.
- The CI-sized run of both scenarios, checking outcomes only: `tests/e2e/test_load.py`.

{burst_section(*burst_run)}
{spread_section(spread_runs)}""")


_NBSP = "\u00a0"


def reflowed(markdown: str, width: int = 100) -> str:
    """Paragraphs and list items filled to ``width`` (the figures make their lines ragged),
    never breaking inside a `code span`; headings and tables as they are."""
    blocks = []
    for block in markdown.strip("\n").split("\n\n"):
        if block.startswith(("#", "|")):
            blocks.append(block)
            continue
        items: list[str] = []
        for line in block.splitlines():
            if line.startswith("- ") or not items:
                items.append(line)
            else:
                items[-1] += " " + line.strip()
        blocks.append(
            "\n".join(
                textwrap.fill(
                    re.sub(r"`[^`]*`", lambda code: code[0].replace(" ", _NBSP), item),
                    width,
                    subsequent_indent="  " if item.startswith("- ") else "",
                    break_long_words=False,
                    break_on_hyphens=False,
                ).replace(_NBSP, " ")
                for item in items
            )
        )
    return "\n\n".join(blocks) + "\n"


def main() -> None:
    load_average = os.getloadavg()[0]
    burst_run = burst()
    spread_runs = {workers: spread(workers) for workers in (1, 2)}
    text = section(burst_run, spread_runs, load_average=load_average)
    write_section(REPORT, SECTION, text, title="# Reliability")
    print(text)


if __name__ == "__main__":
    main()
