"""`voxregen serve`, run as a user runs it: embedded PostgreSQL and Redis under the data folder,
migrations, the API and a worker as children; a child that dies comes back; SIGINT or SIGTERM
stops every process it started; a second start finds the data of the first. And `voxregen api`
and `voxregen worker`, serve's children, fail in one line when their settings are wrong."""

import contextlib
import functools
import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
import redis
import sqlalchemy as sa

from tests.integration.processes import environment_without_voxregen_settings, still_running
from voxregen_adapters.db.migrate import head_revision

VOXREGEN = str(Path(sys.executable).with_name("voxregen"))
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


@contextmanager
def _serving(
    data_dir: Path,
    port: int,
    log: Path,
    *,
    workers: int = 1,
    voxregen: str = VOXREGEN,
    cwd: Path | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen]:
    """``voxregen serve`` on ``port``, once its workers have started; killed (with everything
    it started) if the test fails before stopping it. ``voxregen`` is the command (an installed
    wheel's, say), run in ``cwd``; ``settings`` are the only ``VOXREGEN_*`` it gets."""
    starts = log.read_text().count('"worker_started"') if log.exists() else 0
    serving_said = log.read_text().count("voxregen: serving ") if log.exists() else 0
    arguments = ["--port", str(port), "--data-dir", str(data_dir), "--workers", str(workers)]
    with log.open("ab") as log_file:
        serve = subprocess.Popen(
            [voxregen, "serve", *arguments],
            env=environment_without_voxregen_settings() | (settings or {}),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            cwd=cwd,
        )
    try:
        _wait_until(
            lambda: log.read_text().count('"worker_started"') >= starts + workers, serve, log
        )
        _wait_until(lambda: _status(f"http://127.0.0.1:{port}/healthz") == 200, serve, log)
        # serve says where it serves once the API answers: the line a user opens the URL on
        _wait_until(lambda: log.read_text().count("voxregen: serving ") > serving_said, serve, log)
        yield serve
    finally:
        if serve.poll() is None:
            for process in _family(serve.pid, data_dir):
                process.kill()
            serve.wait(timeout=STOP_TIMEOUT_S)


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2.0).status_code
    except httpx.TransportError:
        return None


def _wait_until(condition, serve: subprocess.Popen, log: Path) -> None:
    deadline_s = time.monotonic() + START_TIMEOUT_S
    while not condition():
        assert serve.poll() is None, f"serve exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline_s, f"gave up waiting:\n{log.read_text()}"
        time.sleep(0.1)


def _family(serve_pid: int, data_dir: Path) -> list[psutil.Process]:
    """serve, its descendants (API, worker, Redis), and the PostgreSQL and Redis servers of
    ``data_dir`` however they were started (pg_ctl detaches PostgreSQL from serve; a serve
    that attached to a running Redis is not its parent)."""
    serve = psutil.Process(serve_pid)
    postmaster = psutil.Process(
        int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    )
    client = redis.Redis(unix_socket_path=str(data_dir / "redis.sock"))
    try:
        redis_server = psutil.Process(int(client.info("server")["process_id"]))
    finally:
        client.close()
    return [
        serve,
        *serve.children(recursive=True),
        postmaster,
        *postmaster.children(),
        redis_server,
    ]


def _child(serve: subprocess.Popen, command: str) -> psutil.Process:
    """serve's child running ``python -m voxregen <command> …``."""
    (child,) = [
        process
        for process in psutil.Process(serve.pid).children()
        if _cmdline(process)[2:4] == ["voxregen", command]
    ]
    return child


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # exited (or a zombie until serve reaps it)
        return []


def _stop(serve: subprocess.Popen, processes: list[psutil.Process], signal_number: int) -> None:
    serve.send_signal(signal_number)
    assert serve.wait(timeout=STOP_TIMEOUT_S) == 0
    assert still_running([process.pid for process in processes], timeout_s=STOP_TIMEOUT_S) == []


@contextmanager
def _embedded_database(data_dir: Path) -> Iterator[sa.Engine]:
    """An engine on the embedded PostgreSQL that serve runs for ``data_dir``."""
    socket_dir = (data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[4]
    engine = sa.create_engine(
        sa.URL.create("postgresql+psycopg", username="postgres", query={"host": socket_dir})
    )
    try:
        yield engine
    finally:
        engine.dispose()


def test_serve_runs_supervises_stops_cleanly_and_keeps_its_data(tmp_path):
    """Three starts on one data folder: stopped by SIGINT, killed by SIGKILL, stopped by
    SIGTERM."""
    data_dir, log, port = tmp_path / "data", tmp_path / "serve.log", _free_port()
    base_url, user = f"http://127.0.0.1:{port}", {"X-User-Id": str(uuid.uuid4())}
    key_file = data_dir / "signing-key"

    with _serving(data_dir, port, log) as serve:
        assert (
            f"voxregen: serving {base_url} (development mode: X-User-Id is trusted); "
            "Ctrl-C stops it"
        ) in log.read_text()
        assert f"PostgreSQL in {data_dir / 'pgdata'}" in log.read_text()
        assert _status(f"{base_url}/readyz") == 200
        with _embedded_database(data_dir) as engine:
            assert _revision(engine) == head_revision()
        assert key_file.stat().st_mode & 0o777 == 0o600
        signing_key = key_file.read_text()
        created = httpx.post(
            f"{base_url}/v1/singer-profiles", json={"name": "kept"}, headers=user, timeout=10
        )
        assert created.status_code == 201, created.text

        for command in ("worker", "api"):
            dead = _child(serve, command)
            dead.kill()
            _wait_until(functools.partial(_restarted, serve, command, dead.pid), serve, log)
            exits = {record["pid"]: record for record in _events(log, "child_exited")}
            assert exits[dead.pid]["returncode"] == -signal.SIGKILL
        _wait_until(lambda: _status(f"{base_url}/healthz") == 200, serve, log)

        _stop(serve, _family(serve.pid, data_dir), signal.SIGINT)
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    stopped = {record["child"]: record["how"] for record in _events(log, "child_stopped")}
    assert stopped == {"api": "terminated", "worker": "terminated"}

    profile_url = f"{base_url}/v1/singer-profiles/{created.json()['id']}"
    with _serving(data_dir, port, log) as serve:
        assert key_file.read_text() == signing_key
        kept = httpx.get(profile_url, headers=user, timeout=10)
        assert kept.status_code == 200, kept.text
        assert kept.json()["name"] == "kept"
        children = [_child(serve, "api").pid, _child(serve, "worker").pid]
        serve.kill()  # no clean stop: its children must not outlive it
        serve.wait(timeout=STOP_TIMEOUT_S)
        assert still_running(children, timeout_s=STOP_TIMEOUT_S) == []

    # the next start takes over the PostgreSQL and Redis the killed serve left running
    with _serving(data_dir, port, log) as serve:
        assert httpx.get(profile_url, headers=user, timeout=10).json()["name"] == "kept"
        _stop(serve, _family(serve.pid, data_dir), signal.SIGTERM)
    assert log.read_text().count("voxregen: stopped") == 2


def test_serve_runs_as_many_workers_as_asked_each_with_its_own_metrics_port(tmp_path):
    data_dir, log, port = tmp_path / "data", tmp_path / "serve.log", _free_port()
    base_port = _free_ports(3)
    settings = {"VOXREGEN_WORKER_METRICS_PORT": str(base_port)}
    with _serving(data_dir, port, log, workers=3, settings=settings) as serve:
        workers = [
            process
            for process in psutil.Process(serve.pid).children()
            if _cmdline(process)[2:4] == ["voxregen", "worker"]
        ]
        assert len(workers) == 3
        ports = {
            record["process"]: record["metrics_port"] for record in _events(log, "worker_started")
        }
        children = {record["child"]: record["pid"] for record in _events(log, "child_started")}
        assert set(ports) == {worker.pid for worker in workers}
        assert [ports[children[f"worker-{n}"]] for n in (1, 2, 3)] == [
            base_port,
            base_port + 1,
            base_port + 2,
        ]
        for worker in workers:
            metrics = httpx.get(f"http://127.0.0.1:{ports[worker.pid]}/metrics", timeout=10)
            assert metrics.status_code == 200
            assert "voxregen_queue_depth_up 1.0" in metrics.text
            assert "voxregen_chunk_generation_seconds_count 0.0" in metrics.text
        _stop(serve, _family(serve.pid, data_dir), signal.SIGTERM)
    stopped = {record["child"]: record["how"] for record in _events(log, "child_stopped")}
    assert stopped == {
        "api": "terminated",
        "worker-1": "terminated",
        "worker-2": "terminated",
        "worker-3": "terminated",
    }


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports that are free now."""
    while True:
        with socket.create_server(("0.0.0.0", 0)) as probe:
            base_port = probe.getsockname()[1]
        if base_port + count - 1 > 65_535:
            continue
        try:
            with contextlib.ExitStack() as held:
                for port in range(base_port, base_port + count):
                    held.enter_context(socket.create_server(("0.0.0.0", port)))
        except OSError:
            continue
        return base_port


def _events(log: Path, event: str) -> list[dict]:
    """The JSON log lines of ``event``, oldest first."""
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return [record for record in map(json.loads, lines) if record["event"] == event]


def _revision(engine: sa.Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def _restarted(serve: subprocess.Popen, command: str, dead_pid: int) -> bool:
    """serve runs ``command`` again, in a child other than the dead one."""
    try:
        return _child(serve, command).pid != dead_pid
    except ValueError:  # between the death and the restart there is no such child
        return False


def test_serve_fails_in_one_line_when_its_port_is_taken(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        _fails_in_one_line(
            ["serve", "--port", str(port), "--data-dir", str(tmp_path)],
            {},
            f"cannot listen on 127.0.0.1:{port}: ",
        )


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.internal"])
def test_serve_refuses_development_auth_beyond_loopback_unless_asked(tmp_path, host):
    _fails_in_one_line(
        ["serve", "--host", host, "--port", str(_free_port()), "--data-dir", str(tmp_path)],
        {},
        f"voxregen serve --host {host} would let anyone who reaches it act as any user",
    )
    assert not (tmp_path / "pgdata").exists()


def _keys(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [VOXREGEN, "keys", *args, "--data-dir", str(data_dir)],
        env=environment_without_voxregen_settings(),
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT_S,
    )


def test_serve_with_api_keys_takes_keys_made_by_voxregen_keys_beside_it(tmp_path):
    data_dir, log, port = tmp_path / "data", tmp_path / "serve.log", _free_port()
    base_url, user_id = f"http://127.0.0.1:{port}", uuid.uuid4()
    with _serving(data_dir, port, log, settings={"VOXREGEN_AUTH_MODE": "api_keys"}) as serve:
        assert "(API keys required)" in log.read_text()
        trusted = httpx.get(f"{base_url}/v1/render-jobs", headers={"X-User-Id": str(user_id)})
        assert trusted.status_code == 401
        assert trusted.headers["www-authenticate"] == 'Bearer realm="voxregen"'

        made = _keys("create", "--user-id", str(user_id), "--name", "studio", data_dir=data_dir)
        assert made.returncode == 0, made.stderr
        key = made.stdout.splitlines()[-1]
        bearer = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base_url}/v1/render-jobs", headers=bearer).json() == {
            "items": [],
            "next_cursor": None,
        }
        _stop(serve, _family(serve.pid, data_dir), signal.SIGTERM)

    # serve stopped: the command starts the embedded database for itself, and stops it after
    listed = _keys("list", "--user-id", str(user_id), data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split("\t") == [
        "id",
        "prefix",
        "name",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    key_id, prefix, name, _, last_used_at, revoked_at = row.split("\t")
    assert (prefix, name, revoked_at) == (key[:8] + "…", "studio", "-")
    assert last_used_at != "-"
    assert key not in listed.stdout
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()

    revoked = _keys("revoke", key_id, data_dir=data_dir)
    assert revoked.returncode == 0, revoked.stderr
    with _serving(data_dir, port, log, settings={"VOXREGEN_AUTH_MODE": "api_keys"}) as serve:
        refused = httpx.get(f"{base_url}/v1/render-jobs", headers=bearer)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"
        _stop(serve, _family(serve.pid, data_dir), signal.SIGTERM)


def test_serve_fails_in_one_line_when_a_workers_metrics_port_is_taken(tmp_path):
    base_port = _free_ports(2)
    with socket.create_server(("0.0.0.0", base_port + 1)):
        _fails_in_one_line(
            ["serve", "--port", str(_free_port()), "--data-dir", str(tmp_path), "--workers", "2"],
            {"VOXREGEN_WORKER_METRICS_PORT": str(base_port)},
            f"cannot listen on 0.0.0.0:{base_port + 1}: ",
        )
    assert not (tmp_path / "pgdata").exists()


def test_serve_fails_in_one_line_when_its_workers_metrics_ports_run_past_the_last(tmp_path):
    _fails_in_one_line(
        ["serve", "--port", str(_free_port()), "--data-dir", str(tmp_path), "--workers", "3"],
        {"VOXREGEN_WORKER_METRICS_PORT": "65534"},
        "VOXREGEN_WORKER_METRICS_PORT=65534 leaves no port for worker 3: its 3 workers need "
        "65534 to 65536",
    )


def test_a_worker_fails_in_one_line_when_its_metrics_port_is_taken():
    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        _fails_in_one_line(
            ["worker"],
            {
                "VOXREGEN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/voxregen",
                "VOXREGEN_REDIS_URL": "unix:///nonexistent/voxregen-test/redis.sock",
                "VOXREGEN_STORAGE_URL": "s3://key:secret@127.0.0.1:1/voxregen?secure=false",
                "VOXREGEN_WORKER_METRICS_PORT": str(port),
            },
            f"VOXREGEN_WORKER_METRICS_PORT={port}: cannot listen on 0.0.0.0:{port}: Address "
            "already in use",
        )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "VOXREGEN_DATABASE_URL",
            "mysql://db/x",
            "VOXREGEN_DATABASE_URL='mysql://db/x' is malformed",
        ),
        ("VOXREGEN_SIGNING_KEY", "short", "VOXREGEN_SIGNING_KEY is malformed"),
    ],
)
def test_serve_fails_in_one_line_on_a_malformed_setting(tmp_path, name, value, message):
    _fails_in_one_line(
        ["serve", "--port", str(_free_port()), "--data-dir", str(tmp_path)], {name: value}, message
    )
    assert not (tmp_path / "pgdata").exists()


@pytest.mark.parametrize("command", ["api", "worker"])
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "VOXREGEN_DATABASE_URL is not set (voxregen serve sets it)"),
        ({"VOXREGEN_REDIS_URL": "ftp://x"}, "VOXREGEN_REDIS_URL='ftp://x' is malformed"),
    ],
)
def test_api_and_worker_fail_in_one_line_without_their_settings(command, settings, message):
    _fails_in_one_line([command], settings, message)


def _fails_in_one_line(args: list[str], settings: dict[str, str], message: str) -> None:
    """``voxregen *args`` with only ``settings`` of ours exits 2 with one line, ``message``."""
    done = subprocess.run(
        [VOXREGEN, *args],
        env={**environment_without_voxregen_settings(), **settings},
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT_S,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"voxregen: error: {message}")
    assert done.stderr.count("\n") == 1
