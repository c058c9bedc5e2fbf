"""The service as an operator runs it, for process-level tests: ``voxregen migrate``, then one
``voxregen api`` and any number of ``voxregen worker`` processes, each started, stopped or
killed (``SIGKILL``, as a crash would) by the test, each one's JSON log lines readable.

Usage::

    with claimed_redis(redis_url) as queue_url, Stack(
        database_url=fresh_database_url,
        redis_url=queue_url,
        storage_url=s3_storage_url(s3_endpoint),
        work_dir=tmp_path,
        env={"VOXREGEN_STUB_SECONDS_PER_CHUNK": "1"},  # every process's extra env
    ) as stack:
        stack.start_api()
        worker = stack.start_worker(env={"VOXREGEN_WORKER_HEARTBEAT_TIMEOUT_S": "5"})
        ada = stack.user()
        job_id = ada.submit(ada.ready_profile(), wav)
        wait_for(lambda: stack.events("render_chunk_generating"), what="a chunk generating")
        worker.kill()
        stack.start_worker()
        assert ada.finished(job_id)[-1]["status"] == "done", stack.logs()
    # leaving the block SIGTERMs whatever still runs; stack.exit_codes says how each ended

Redis: the processes use the broker's fixed ``voxregen`` namespace (no setting changes it), so
a run on a shared Redis claims a database index of its own (1 to 15; other tests use database
0 under namespaces of their own) with an atomic ``SET NX`` (:func:`claimed_redis`), and empties
that namespace first. Two runs at once on one Redis would otherwise take each other's
messages; one run's worker did take another's profile build. A Redis of the test's own (the
embedded one, restartable) needs no claim.

Stopping: SIGTERM, and each process must exit within ``STOP_TIMEOUT_S`` (uvicorn ends its
graceful shutdown by re-raising the signal, so the API's exit status is ``-SIGTERM``; a worker
returns 0; a killed worker's is ``-SIGKILL``).
"""

import contextlib
import functools
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import httpx
import numpy as np
import pytest
import redis
import soundfile as sf

from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY
from tests.integration.worker_world import reference_wav
from tests.meters import ffmpeg_ebur128
from tests.signals import synthetic_singing, wav_bytes
from voxregen.composition.local_render import local_render_ports
from voxregen.composition.service_parts import build_service
from voxregen_adapters.broker import make_broker
from voxregen_adapters.dramatiq_job_queue import QUEUE_NAMES, DramatiqJobQueue, render_backlog
from voxregen_adapters.service import Service
from voxregen_adapters.settings import load_settings
from voxregen_client import Client
from voxregen_core import spec
from voxregen_core.audio_input import read_opened_stem
from voxregen_core.jobs import Progress
from voxregen_core.pipeline import render

VOXREGEN = str(Path(sys.executable).with_name("voxregen"))
E2E_REDIS_DBS = range(1, 16)
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
WAIT_TIMEOUT_S = 60.0
POLL_S = 0.05
HTTP_TIMEOUT_S = 10.0
STEM_RATE_HZ = 44_100
_NAMESPACE = "voxregen"
_QUEUES = tuple(f"{_NAMESPACE}:{name}" for name in sorted(set(QUEUE_NAMES.values())))
"""Dramatiq's lists of message ids waiting to be fetched, one per queue the actors consume."""
_QUEUE_MESSAGES = tuple(f"{queue}{suffix}.msgs" for queue in _QUEUES for suffix in ("", ".DQ"))
"""Dramatiq's hashes of the messages not yet acknowledged (queued, in hand, or delayed for a
retry), of every queue."""
_IN_HAND_PATTERN = f"{_NAMESPACE}:__acks__.*"
"""Dramatiq's sets, one per worker and queue, of the message ids fetched and not
acknowledged."""
_CLAIM_KEY = "voxregen-e2e:claimed"
_CLAIM_S = 600

T = TypeVar("T")


def wait_for(
    read: Callable[[], T],
    *,
    until: Callable[[T], object] = bool,
    what: str,
    timeout_s: float = WAIT_TIMEOUT_S,
    poll_s: float = POLL_S,
    context: Callable[[], str] = lambda: "",
) -> T:
    """Call ``read`` every ``poll_s`` until ``until`` holds for its value, and return that
    value; fail naming ``what``, the last value and ``context()`` (say, the logs) after
    ``timeout_s``."""
    deadline_s = time.monotonic() + timeout_s
    while True:
        value = read()
        if until(value):
            return value
        if time.monotonic() > deadline_s:
            raise AssertionError(
                f"waited {timeout_s:g} s for {what}; last seen: {value!r}\n{context()}"
            )
        time.sleep(poll_s)


@contextlib.contextmanager
def claimed_redis(redis_url: str) -> Iterator[str]:
    """``redis_url`` on a database index no other run holds, without any ``voxregen`` keys;
    released afterwards."""
    for db in E2E_REDIS_DBS:
        url = on_redis_database(redis_url, db)
        client = redis.Redis.from_url(url)
        try:
            if client.set(_CLAIM_KEY, str(os.getpid()), nx=True, ex=_CLAIM_S):
                for key in client.scan_iter("voxregen:*"):  # what a killed run left
                    client.delete(key)
                try:
                    yield url
                finally:
                    client.delete(_CLAIM_KEY)
                return
        finally:
            client.close()
    raise AssertionError(f"every Redis database {E2E_REDIS_DBS} is claimed by another run")


def on_redis_database(redis_url: str, db: int) -> str:
    """``redis_url`` pointing at database ``db`` instead."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":  # geturl() would drop the empty host: unix:/path
        query = urlencode(dict(parse_qsl(parts.query)) | {"db": str(db)})
        return f"unix://{parts.path}?{query}"
    return parts._replace(path=f"/{db}").geturl()


def s3_storage_url(endpoint: str) -> str:
    """``VOXREGEN_STORAGE_URL`` of a new bucket on the moto server at ``endpoint``
    (``host:port``)."""
    bucket = f"e2e-{uuid.uuid4().hex[:12]}"
    return f"s3://{ACCESS_KEY}:{SECRET_KEY}@{endpoint}/{bucket}?secure=false"


def stem_s_for(chunks: int) -> float:
    """A stem duration that the worker plans as ``chunks`` chunks (18 s on a 16 s stride):
    half a stride short of the longest such stem, so rounding cannot tip it either way."""
    return spec.STRIDE_S * (chunks - 1) + spec.CHUNK_S - spec.STRIDE_S / 2


@functools.cache
def singing_wav(duration_s: float, *, seed: int = 0) -> bytes:
    """A 44.1 kHz stereo 24-bit WAV of synthetic singing, peaking at -0.9 dBFS (the right
    channel quieter); cached, as making two minutes takes seconds. See :func:`stem_s_for`."""
    mono = synthetic_singing(duration_s, seed=seed, fs=STEM_RATE_HZ).audio
    mono = mono * 0.9 / np.max(np.abs(mono))
    return wav_bytes(np.stack([mono, 0.8 * mono], axis=1), fs=STEM_RATE_HZ, subtype="PCM_24")


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


@attrs.define
class ServiceProcess:
    """One running ``voxregen`` process, its stdout and stderr in ``log_path``."""

    name: str
    log_path: Path
    popen: subprocess.Popen = attrs.field(repr=False)
    _stopping: bool = attrs.field(default=False, init=False, repr=False)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would, and reap it: nothing of the process's
        runs after this returns."""
        self.popen.kill()
        self.popen.wait()

    def terminate(self) -> int | None:
        """SIGTERM (once: a second one, while it shuts down, may kill it outright), then its
        exit status (None, and killed, if it did not exit within ``STOP_TIMEOUT_S``). A
        process already ended is left as it is."""
        self.ask_to_stop()
        try:
            return self.popen.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def ask_to_stop(self) -> None:
        """SIGTERM, unless it was sent already or the process ended; returns at once."""
        if not self._stopping and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        self._stopping = True

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The process's JSON log lines so far (only those of ``event``, if given), oldest
        first, each with ``"process": name`` added. Lines that are not JSON objects (a
        half-written last line) are left out."""
        events = []
        for line in self.text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and (event is None or record.get("event") == event):
                events.append(record | {"process": self.name})
        return events


class Stack:
    """The database is migrated on construction; processes start when asked. As a context
    manager, it stops every process still running on exit, and records how each ended in
    ``exit_codes``."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        storage_url: str,
        work_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.redis_url = redis_url
        self.storage_url = storage_url
        self.log_dir = work_dir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = _environment(
            **{
                "VOXREGEN_DATABASE_URL": database_url,
                "VOXREGEN_REDIS_URL": redis_url,
                "VOXREGEN_STORAGE_URL": storage_url,
                "VOXREGEN_PUBLIC_URL": self.base_url,
                "VOXREGEN_CACHE_DIR": str(work_dir / "cache"),
                "VOXREGEN_DATA_DIR": str(work_dir / "data"),
                "VOXREGEN_AUTH_MODE": "api_keys",
                # the tests poll every POLL_S, far faster than the default limit lets a
                # producer, and the load run has 50 jobs of one user in flight;
                # tests/e2e/test_limits.py sets its own
                "VOXREGEN_RATE_LIMIT_PER_MIN": str(10**9),
                "VOXREGEN_MAX_ACTIVE_JOBS_PER_USER": str(10**6),
            }
            | dict(env or {})
        )
        self.processes: list[ServiceProcess] = []
        self._users: list[User] = []
        self.exit_codes: dict[str, int | None] = {}
        migrated = subprocess.run(
            [VOXREGEN, "migrate"], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stderr

    def __enter__(self) -> "Stack":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start_api(self, *, port: int | None = None) -> ServiceProcess:
        """``voxregen api`` on ``base_url`` (or another on ``port``: ``api-2``, … beside the
        first), once ``/readyz`` answers 200."""
        number = sum(process.name.startswith("api") for process in self.processes) + 1
        port = port or self.port
        api = self._start(
            "api" if number == 1 else f"api-{number}", [VOXREGEN, "api", "--port", str(port)], {}
        )
        base_url = f"http://127.0.0.1:{port}"
        self._wait_until_started(api, lambda: _ready(base_url), what="the API to be ready")
        return api

    def start_worker(
        self, env: Mapping[str, str] | None = None, *, wait: bool = True
    ) -> ServiceProcess:
        """A new ``voxregen worker`` (named ``worker-1``, ``worker-2``, …) with ``env`` on top of
        the stack's; returned once it logged ``worker_started`` unless ``wait`` is False."""
        number = sum(process.name.startswith("worker-") for process in self.processes) + 1
        worker = self._start(f"worker-{number}", [VOXREGEN, "worker"], env or {})
        if wait:
            self._wait_until_started(
                worker, lambda: worker.events("worker_started"), what=f"{worker.name} to start"
            )
        return worker

    @property
    def workers(self) -> list[ServiceProcess]:
        return [process for process in self.processes if process.name.startswith("worker-")]

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """Every process's JSON log lines (only ``event``'s, if given), process by process in
        start order, each in its own order; each has ``"process"``."""
        return [record for process in self.processes for record in process.events(event)]

    def logs(self, tail_chars: int = 4000) -> str:
        """The end of each process's output, for assertion messages."""
        return "\n".join(
            f"--- {process.name}\n{process.text()[-tail_chars:]}" for process in self.processes
        )

    @contextlib.contextmanager
    def service(self) -> Iterator[Service]:
        """The service over the stack's database, Redis and object store, as the processes
        see them: for reading rows and objects, or queuing messages, from the test."""
        broker = make_broker(self.redis_url, namespace=_NAMESPACE)
        service = build_service(
            load_settings(self.env),
            queue=DramatiqJobQueue(broker),
        )
        try:
            yield service
        finally:
            service.close()
            broker.client.connection_pool.disconnect()

    def stored_input(self, user_id: uuid.UUID, job_id: str) -> bytes:
        """The job's input as the object store holds it now (a render must never lose it)."""
        with self.service() as service:
            job = service.jobs.get(user_id=user_id, job_id=uuid.UUID(job_id))
            return service.store.get(job.input_object_key)

    def pending_messages(self) -> int:
        """Messages queued, in a worker's hands, or waiting to be retried, and units of render
        work waiting in the backlog."""
        broker = make_broker(self.redis_url, namespace=_NAMESPACE)
        try:
            messages = sum(broker.client.hlen(key) for key in _QUEUE_MESSAGES)
            return messages + len(render_backlog(broker).waiting())
        finally:
            broker.client.connection_pool.disconnect()

    def queued_and_in_hand(self) -> tuple[int, int]:
        """Messages waiting to be fetched, and those fetched by a worker and not acknowledged
        yet (the ones its threads run and those prefetched behind them: what a worker declared
        dead loses to the queue), over every queue."""
        client = redis.Redis.from_url(self.redis_url)
        try:
            in_hand = sum(client.scard(key) for key in client.scan_iter(_IN_HAND_PATTERN))
            return sum(client.llen(queue) for queue in _QUEUES), in_hand
        finally:
            client.close()

    def user(self) -> "User":
        """A new user of this stack (their clients closed when the stack stops), with an API
        key made for them by the real ``voxregen keys create``."""
        user_id = uuid.uuid4()
        made = subprocess.run(
            [VOXREGEN, "keys", "create", "--user-id", str(user_id), "--name", "e2e"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        user = User(
            self.base_url,
            user_id,
            api_key=made.stdout.splitlines()[-1],
            work_dir=self.log_dir.parent / "users" / str(user_id),
        )
        self._users.append(user)
        return user

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every process still running, and each one's exit status by name (see the
        module docstring); also kept in ``exit_codes``."""
        for process in self.processes:  # all at once: each takes a while to finish
            process.ask_to_stop()
        self.exit_codes = {process.name: process.terminate() for process in self.processes}
        for user in self._users:
            user.close()
        return self.exit_codes

    def _start(self, name: str, command: list[str], env: Mapping[str, str]) -> ServiceProcess:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log_file:
            popen = subprocess.Popen(
                command,
                env=self.env | dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
        process = ServiceProcess(name=name, log_path=log_path, popen=popen)
        self.processes.append(process)
        return process

    def _wait_until_started(
        self, process: ServiceProcess, started: Callable[[], object], *, what: str
    ) -> None:
        """Wait up to ``START_TIMEOUT_S`` until ``started()`` holds; fail at once, with the
        logs, if the process exits first."""
        wait_for(
            lambda: started() or not process.alive,
            what=what,
            timeout_s=START_TIMEOUT_S,
            context=self.logs,
        )
        assert process.alive, f"{process.name} exited: {process.popen.returncode}\n{self.logs()}"


class User:
    """One user of the stack: ``client`` is the Python client (:mod:`voxregen_client`) with
    their API key, ``http`` a plain HTTP client with it, for the requests a test writes out."""

    def __init__(self, base_url: str, user_id: uuid.UUID, *, api_key: str, work_dir: Path) -> None:
        self.id = user_id
        self.api_key = api_key
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.client = Client(base_url, api_key=api_key, timeout_s=HTTP_TIMEOUT_S)
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=HTTP_TIMEOUT_S,
        )

    def close(self) -> None:
        self.client.close()
        self.http.close()

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, json=body)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def file(self, data: bytes, name: str = "clip.wav") -> Path:
        """``data`` in a new file of this user's folder."""
        path = self.work_dir / f"{uuid.uuid4().hex}-{name}"
        path.write_bytes(data)
        return path

    def ready_profile(self, *, timeout_s: float = WAIT_TIMEOUT_S) -> str:
        """A new profile of this user's, built from one uploaded reference; its id."""
        profile = self.client.profiles.create("Ada")
        self.client.profiles.add_reference(profile.id, self.file(reference_wav()))
        self.client.profiles.wait_ready(profile.id, timeout_s=timeout_s, poll_s=POLL_S)
        return profile.id

    def uploaded_input(self, data: bytes) -> dict[str, Any]:
        """render-jobs:prepare-upload's answer (``job_id``, ``object_key``, ``upload_url``),
        ``data`` uploaded to its URL."""
        upload = self.post("/v1/render-jobs:prepare-upload")
        assert upload.status_code == 200, upload.text
        put_object(upload.json()["upload_url"], data)
        return upload.json()

    def submit(self, profile_id: str, data: bytes, params: dict[str, Any] | None = None) -> str:
        """Upload ``data`` and create a render job of it; the job's id."""
        return self.client.jobs.create(self.file(data), profile_id, params=params).id

    def create_job(
        self, profile_id: str, input_object_key: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A render job of an uploaded input (see :meth:`uploaded_input`), as created (201)."""
        body = {"singer_profile_id": profile_id, "input_object_key": input_object_key}
        created = self.post("/v1/render-jobs", body | ({"params": params} if params else {}))
        assert created.status_code == 201, created.text
        return created.json()

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/v1/render-jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def finished(
        self, job_id: str, *, timeout_s: float = WAIT_TIMEOUT_S, poll_s: float = POLL_S
    ) -> list[dict[str, Any]]:
        """Every state of the job seen, polling every ``poll_s``, until it is done, failed or
        canceled."""
        seen: list[dict[str, Any]] = []

        def read() -> dict[str, Any]:
            seen.append(self.job(job_id))
            return seen[-1]

        wait_for(
            read,
            until=lambda job: job["status"] in ("done", "failed", "canceled"),
            what=f"job {job_id} to finish",
            timeout_s=timeout_s,
            poll_s=poll_s,
        )
        return seen

    def download(self, job_id: str) -> bytes:
        """The delivered file of a done job."""
        return self.client.jobs.download(
            job_id, self.work_dir / f"{uuid.uuid4().hex}.wav"
        ).read_bytes()


def put_object(url: str, data: bytes) -> None:
    """Upload ``data`` to a prepared upload URL: S3 answers 200, the local file store's
    upload route 204."""
    response = httpx.put(url, content=data, timeout=HTTP_TIMEOUT_S)
    assert response.status_code in (200, 204), response.text


def check_done(
    states: list[dict[str, Any]], *, chunks: int, context: Callable[[], str] = lambda: ""
) -> None:
    """Assert that the job whose states :meth:`User.finished` saw ended done with each of its
    ``chunks`` recorded, and that its ``chunks_done`` never went back on the way (a resumed or
    retried job picks up where it was); ``context()`` (say, the logs) goes with a failure."""
    job = states[-1]
    assert job["status"] == "done", f"{job}\n{context()}"
    assert job["progress"] == {"chunks_done": chunks, "chunks_total": chunks}
    done = [state["progress"]["chunks_done"] for state in states]
    assert done == sorted(done), done


def check_delivered(wav: bytes, *, input_frames: int) -> None:
    """Assert that ``wav`` is a valid delivery of a stem of ``input_frames`` frames at
    ``STEM_RATE_HZ``: 48 kHz, 16-bit, two identical channels, the input's duration (to a
    frame), -18 LUFS and at most -1 dBTP on the independent meter (ffmpeg's ebur128, not the
    code under test)."""
    info = sf.info(io.BytesIO(wav))
    assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2)
    audio, _ = sf.read(io.BytesIO(wav), dtype="int16")
    assert np.array_equal(audio[:, 0], audio[:, 1])
    assert abs(len(audio) - input_frames * 48_000 / STEM_RATE_HZ) <= 1.0
    reading = ffmpeg_ebur128(wav)
    assert reading.integrated_lufs == pytest.approx(-18.0, abs=0.1)
    assert reading.true_peak_dbtp <= -1.0


def uninterrupted_render(stack: Stack, user_id: uuid.UUID, job_id: str, work_dir: Path) -> bytes:
    """What the stack's job ``job_id`` delivers when nothing goes wrong: the same job (same
    id, user, profile, params and input bytes, read back from the stack's database and object
    store) rendered in this process by :func:`voxregen_core.pipeline.render` over fresh local
    ports under ``work_dir`` (an empty object store and feature cache, the stub generator),
    in one go.

    It runs the stage functions the worker fans out (prepare, store_chunk, deliver), so
    comparing with it checks that crashes, outages, resumes, reused chunks and duplicate
    messages change nothing in the delivered bytes. The same input rendered under another
    job id would not do: a chunk's seed is drawn from the job id (the stub ignores it, a
    model will not).
    """
    with stack.service() as service:
        job = service.jobs.get(user_id=user_id, job_id=uuid.UUID(job_id))
        profile = service.profiles.get(user_id=user_id, profile_id=job.singer_profile_id)
        ports = local_render_ports(work_dir / f"uninterrupted-{job_id}", progress=_NoProgress())
        open_input = functools.partial(service.store.open, job.input_object_key)
        read_input = functools.partial(read_opened_stem, open_input)
        return render(job, read_input=read_input, profile=profile, ports=ports).output_wav


def assert_same_bytes(delivered: bytes, expected: bytes) -> None:
    """``delivered == expected``, failing with the sizes and the first byte that differs:
    pytest's own report of two unequal WAVs is a diff that runs for many minutes."""
    if delivered != expected:
        first = next(
            (i for i, (a, b) in enumerate(zip(delivered, expected, strict=False)) if a != b),
            min(len(delivered), len(expected)),
        )
        raise AssertionError(
            f"{len(delivered)} bytes delivered, {len(expected)} expected: they differ from "
            f"byte {first} on"
        )


class _NoProgress:
    def report(self, progress: Progress) -> None:
        pass


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2.0).status_code == 200
    except httpx.TransportError:
        return False


def _environment(**settings: str) -> dict[str, str]:
    """This environment without any ``VOXREGEN_*`` of the caller's, plus ``settings``."""
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith("VOXREGEN_")
    }
    return inherited | settings
