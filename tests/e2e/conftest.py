"""The service as an operator runs it: ``voxregen migrate``, then ``voxregen api`` and
``voxregen worker`` as separate processes over a fresh PostgreSQL database, the session's Redis
and moto's S3 server; stopped with SIGTERM, and both must shut down cleanly in time (uvicorn
ends its graceful shutdown by re-raising the signal, so the API's exit status is -SIGTERM; the
worker returns 0).

Redis: the processes use the broker's fixed ``voxregen`` namespace (no setting changes it), so
each run claims a Redis database index of its own (1 to 15; the other tests use database 0 under
namespaces of their own) with an atomic ``SET NX``, and empties that namespace first. Two runs
at once on one Redis (two people testing one checkout) would otherwise take each other's
messages; one run's worker did take another's profile build.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import httpx
import pytest
import redis

from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY

VOXREGEN = str(Path(sys.executable).with_name("voxregen"))
E2E_REDIS_DBS = range(1, 16)
_CLAIM_KEY = "voxregen-e2e:claimed"
_CLAIM_S = 600
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@attrs.frozen
class Stack:
    """The running processes: the API at ``base_url``, their logs in ``log_dir``."""

    base_url: str
    database_url: str
    log_dir: Path

    def logs(self) -> str:
        """Both processes' output, for assertion messages."""
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )


@pytest.fixture
def claimed_redis(redis_url) -> Iterator[str]:
    """``redis_url`` on a database index no other run holds, without any ``voxregen`` keys."""
    for db in E2E_REDIS_DBS:
        client = redis.Redis.from_url(_on_database(redis_url, db))
        try:
            if client.set(_CLAIM_KEY, str(os.getpid()), nx=True, ex=_CLAIM_S):
                for key in client.scan_iter("voxregen:*"):  # what a killed run left
                    client.delete(key)
                yield _on_database(redis_url, db)
                client.delete(_CLAIM_KEY)
                return
        finally:
            client.close()
    pytest.fail(f"every Redis database {E2E_REDIS_DBS} is claimed by another end-to-end run")


@pytest.fixture
def stack(fresh_database_url, claimed_redis, s3_endpoint, tmp_path) -> Iterator[Stack]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _environment(
        VOXREGEN_DATABASE_URL=fresh_database_url,
        VOXREGEN_REDIS_URL=claimed_redis,
        VOXREGEN_STORAGE_URL=(
            f"s3://{ACCESS_KEY}:{SECRET_KEY}@{s3_endpoint}/e2e-{uuid.uuid4().hex[:12]}?secure=false"
        ),
        VOXREGEN_PUBLIC_URL=base_url,
        VOXREGEN_CACHE_DIR=str(tmp_path / "cache"),
        VOXREGEN_DATA_DIR=str(tmp_path / "data"),
    )
    migrated = subprocess.run(
        [VOXREGEN, "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert migrated.returncode == 0, migrated.stderr
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    stack = Stack(base_url=base_url, database_url=fresh_database_url, log_dir=log_dir)
    processes: dict[str, subprocess.Popen] = {}
    try:
        processes["api"] = _start([VOXREGEN, "api", "--port", str(port)], env, log_dir / "api.log")
        processes["worker"] = _start([VOXREGEN, "worker"], env, log_dir / "worker.log")
        deadline_s = time.monotonic() + START_TIMEOUT_S
        while not (_ready(base_url) and '"worker_started"' in (log_dir / "worker.log").read_text()):
            exited = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
            assert not exited, f"exited before ready: {exited}\n{stack.logs()}"
            assert time.monotonic() < deadline_s, f"not ready in time\n{stack.logs()}"
            time.sleep(0.1)
        yield stack
    finally:
        exit_codes = _terminate(processes)
    assert exit_codes == {"api": -signal.SIGTERM, "worker": 0}, stack.logs()
    assert "Application shutdown complete." in (log_dir / "api.log").read_text()
    assert '"worker_stopped"' in (log_dir / "worker.log").read_text()


def _environment(**settings: str) -> dict[str, str]:
    """This environment without any ``VOXREGEN_*`` of the caller's, plus ``settings``."""
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith("VOXREGEN_")
    }
    return inherited | settings


def _on_database(redis_url: str, db: int) -> str:
    """``redis_url`` pointing at database ``db`` instead."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":  # geturl() would drop the empty host: unix:/path
        query = urlencode(dict(parse_qsl(parts.query)) | {"db": str(db)})
        return f"unix://{parts.path}?{query}"
    return parts._replace(path=f"/{db}").geturl()


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as log_file:
        return subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file
        )


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2.0).status_code == 200
    except httpx.TransportError:
        return False


def _terminate(processes: dict[str, subprocess.Popen]) -> dict[str, int | None]:
    """SIGTERM to each process, then each one's exit code (None, and killed, if it did not
    exit within ``STOP_TIMEOUT_S``)."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    exit_codes: dict[str, int | None] = {}
    for name, process in processes.items():
        try:
            exit_codes[name] = process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            exit_codes[name] = None
    return exit_codes
