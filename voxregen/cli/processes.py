"""`voxregen api`, `voxregen worker` and `voxregen serve`: the service's processes.

``serve`` is the all-in-one single-machine mode: embedded PostgreSQL and Redis under
``--data-dir`` unless ``VOXREGEN_DATABASE_URL`` / ``VOXREGEN_REDIS_URL`` are set, the local
object store in ``<data-dir>/objects`` unless ``VOXREGEN_STORAGE_URL`` is set, a signing key
made once and kept in ``<data-dir>/signing-key`` (mode 0600) unless ``VOXREGEN_SIGNING_KEY`` is
set, migrations, then ``voxregen api`` and ``voxregen worker`` as supervised children that get
those settings through their environment. With ``VOXREGEN_WORKER_METRICS_PORT`` set, each
worker serves its metrics on a port of its own: worker ``n`` (from 1) on that port + ``n - 1``. SIGINT (Ctrl-C) or SIGTERM stops the children, then
the embedded servers; the data stays in ``<data-dir>`` for the next start.
"""

import argparse
import contextlib
import fcntl
import ipaddress
import os
import secrets
import signal
import socket
import sys
import threading
import urllib.request
from pathlib import Path

import structlog

from voxregen.cli import fail
from voxregen.supervisor import ChildSpec, Supervisor
from voxregen_adapters import embedded
from voxregen_adapters.db import migrate
from voxregen_adapters.log_config import configure_logging
from voxregen_adapters.settings import MAX_TCP_PORT, AuthMode, Settings, load_settings
from voxregen_adapters.url_signing import MIN_SIGNING_KEY_BYTES
from voxregen_core.errors import ConfigError, VoxregenError

SIGNING_KEY_FILE = "signing-key"
_AUTH_SAID = {
    AuthMode.DEV_HEADER: "development mode: X-User-Id is trusted",
    AuthMode.API_KEYS: "API keys required",
}
_LOCK_FILE = "serve.lock"
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}  # what a local client can reach
_UVICORN_GRACEFUL_SHUTDOWN_S = 5


def api_command(args: argparse.Namespace) -> None:
    """`voxregen api`: uvicorn serving the app the composition root builds."""
    import uvicorn  # only this command needs the web server and the app

    from voxregen.composition.service_parts import build_app

    configure_logging()
    try:
        app = build_app(_settings())  # here, so a bad setting is one line, not a traceback
    except ConfigError as error:
        fail(str(error))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=_uvicorn_log_config(),
        access_log=False,  # the app logs one summary line per request
        timeout_graceful_shutdown=_UVICORN_GRACEFUL_SHUTDOWN_S,
    )


def worker_command(args: argparse.Namespace) -> None:
    """`voxregen worker`: :func:`voxregen_worker.main.run_worker` over the parts the
    composition root builds; it stops on SIGINT/SIGTERM and exits 0."""
    from voxregen.composition.service_parts import build_worker
    from voxregen_worker.main import run_worker  # only this command needs the worker

    configure_logging()
    try:
        parts = build_worker(_settings())
        run_worker(parts.service, parts.broker, parts.generator)
    except ConfigError as error:  # a bad setting, or a metrics port taken: one line
        fail(str(error))


def serve_command(args: argparse.Namespace) -> None:
    """`voxregen serve` (see the module docstring)."""
    from voxregen_worker.metrics import METRICS_ADDRESS  # where each worker's port listens

    configure_logging()
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    settings = _settings()
    data_dir = args.data_dir.expanduser().resolve()
    auth_mode = _serve_auth_mode(settings, args.host)
    _check_port_is_free(args.host, args.port)
    metrics_ports = _worker_metrics_ports(settings.worker.metrics_port, args.workers)
    if args.port in metrics_ports:
        fail(f"the API's port {args.port} is also a worker's metrics port {metrics_ports}")
    for metrics_port in metrics_ports:
        _check_port_is_free(METRICS_ADDRESS, metrics_port)
    with contextlib.ExitStack() as running:
        try:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            running.enter_context(_only_serve_on(data_dir))
            env = _child_environment(settings, data_dir, args.host, args.port, running)
            env["VOXREGEN_AUTH_MODE"] = auth_mode.value
            migrate.upgrade(env["VOXREGEN_DATABASE_URL"])
        except (VoxregenError, OSError) as error:
            fail(str(error))
        print(f"voxregen: data: {_where_data_lives(settings, data_dir)}", file=sys.stderr)
        serving = (
            f"voxregen: serving {env['VOXREGEN_PUBLIC_URL']} ({_AUTH_SAID[auth_mode]}); "
            "Ctrl-C stops it"
        )
        threading.Thread(
            target=_say_when_answering, args=(args.host, args.port, serving, stop), daemon=True
        ).start()
        command = (sys.executable, "-m", "voxregen")
        Supervisor(
            [
                ChildSpec(
                    "api", (*command, "api", "--host", args.host, "--port", str(args.port)), env
                ),
                *(
                    ChildSpec(
                        _worker_name(number, args.workers),
                        (*command, "worker"),
                        env | _metrics_port_env(metrics_ports, number),
                    )
                    for number in range(1, args.workers + 1)
                ),
            ]
        ).run(stop)
    print("voxregen: stopped", file=sys.stderr)


def _serve_auth_mode(settings: Settings, host: str) -> AuthMode:
    """``VOXREGEN_AUTH_MODE`` if set; unset, ``dev_header`` on a loopback address, and on any
    other a refusal: X-User-Id taken on trust must not reach beyond this machine by default."""
    if settings.auth_mode is not None:
        return settings.auth_mode
    if _is_loopback(host):
        return AuthMode.DEV_HEADER
    fail(
        f"voxregen serve --host {host} would let anyone who reaches it act as any user "
        "(X-User-Id, the development mode); set VOXREGEN_AUTH_MODE=api_keys (and make keys "
        "with voxregen keys create), or VOXREGEN_AUTH_MODE=dev_header to accept that"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _worker_name(number: int, workers: int) -> str:
    """``worker`` when there is one, else ``worker-1``, ``worker-2``, … in the logs."""
    return "worker" if workers == 1 else f"worker-{number}"


def _worker_metrics_ports(base_port: int | None, workers: int) -> list[int]:
    """Each worker's metrics port, worker 1's first: ``base_port`` and the ones after it;
    none when it is unset."""
    if base_port is None:
        return []
    if base_port + workers - 1 > MAX_TCP_PORT:
        fail(
            f"VOXREGEN_WORKER_METRICS_PORT={base_port} leaves no port for worker {workers}: "
            f"its {workers} workers need {base_port} to {base_port + workers - 1}"
        )
    return [base_port + index for index in range(workers)]


def _metrics_port_env(metrics_ports: list[int], number: int) -> dict[str, str]:
    """Worker ``number``'s own ``VOXREGEN_WORKER_METRICS_PORT``, if the workers have ports."""
    return {"VOXREGEN_WORKER_METRICS_PORT": str(metrics_ports[number - 1])} if metrics_ports else {}


def _settings() -> Settings:
    try:
        return load_settings()
    except VoxregenError as error:
        fail(str(error))


def _child_environment(
    settings: Settings, data_dir: Path, host: str, port: int, running: contextlib.ExitStack
) -> dict[str, str]:
    """The children's environment: this one plus every URL and key ``serve`` chose, starting
    the embedded servers it needs (each stopped when ``running`` closes)."""
    env = dict(os.environ)
    env["VOXREGEN_DATA_DIR"] = str(data_dir)
    if settings.database_url is None:
        postgres = embedded.start_postgres(data_dir)
        running.callback(postgres.stop)
        env["VOXREGEN_DATABASE_URL"] = postgres.url
    if settings.redis_url is None:
        redis_server = embedded.start_redis(data_dir)
        running.callback(redis_server.stop)
        env["VOXREGEN_REDIS_URL"] = redis_server.url
    if settings.storage_url is None:
        env["VOXREGEN_STORAGE_URL"] = (data_dir / "objects").as_uri()
    if settings.signing_key is None:
        env["VOXREGEN_SIGNING_KEY"] = _kept_signing_key(data_dir / SIGNING_KEY_FILE)
    if "VOXREGEN_PUBLIC_URL" not in os.environ:
        reachable = _ANY_ADDRESS.get(host, f"[{host}]" if ":" in host else host)
        env["VOXREGEN_PUBLIC_URL"] = f"http://{reachable}:{port}"
    load_settings(env)  # the children will read these: fail here, once, if one is wrong
    return env


def _where_data_lives(settings: Settings, data_dir: Path) -> str:
    return ", ".join(
        f"{what} in {data_dir / place}" if setting is None else f"{what} at ${variable}"
        for what, place, setting, variable in (
            ("PostgreSQL", "pgdata", settings.database_url, "VOXREGEN_DATABASE_URL"),
            ("Redis", "appendonly.aof", settings.redis_url, "VOXREGEN_REDIS_URL"),
            ("objects", "objects", settings.storage_url, "VOXREGEN_STORAGE_URL"),
        )
    )


def _kept_signing_key(path: Path) -> str:
    """The key in ``path``, made (random, readable by the owner alone) on the first start."""
    if path.exists():
        key = path.read_text().strip()
        if len(key.encode()) < MIN_SIGNING_KEY_BYTES:
            raise ConfigError(f"{path} holds no valid signing key; delete it to make a new one")
        return key
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    key = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    return key


@contextlib.contextmanager
def _only_serve_on(data_dir: Path):
    """Hold ``<data-dir>/serve.lock``: two ``serve`` on one folder would share its servers."""
    with open(data_dir / _LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another voxregen serve is running on {data_dir}") from None
        yield


def _say_when_answering(host: str, port: int, line: str, stop: threading.Event) -> None:
    """Print ``line`` once the API answers ``GET /healthz`` (the user opens the URL on that
    line: before it, a connection would be refused)."""
    loopback = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    where = f"[{loopback}]" if ":" in loopback else loopback
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"http://{where}:{port}/healthz", timeout=1.0):
                print(line, file=sys.stderr, flush=True)
                return
        except OSError:  # not listening yet (refused), or not answering yet
            stop.wait(0.1)


def _check_port_is_free(host: str, port: int) -> None:
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror}")


def _uvicorn_log_config() -> dict:
    """uvicorn's own log records (start-up, errors) as JSON lines, like structlog's."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": [
                    structlog.stdlib.add_logger_name,
                    structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                ],
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(),
                ],
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
    }
