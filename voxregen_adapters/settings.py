"""Settings: every ``VOXREGEN_*`` environment variable, read once and cast strictly.

:func:`load_settings` is called once per process by the composition root; nothing else reads
the environment. A set but malformed value raises :class:`ConfigError` naming the variable and
the value (with any password masked; the signing key is never shown). The README's
"Configuration" section documents every variable.
"""

import enum
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit

import attrs
import platformdirs

from voxregen_adapters.url_signing import MIN_SIGNING_KEY_BYTES
from voxregen_core import webhooks
from voxregen_core.errors import ConfigError
from voxregen_core.generator import Device
from voxregen_core.retention import RetentionPolicy

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_HEARTBEAT_TIMEOUT_S = 10.0
"""Ten of a worker's heartbeats (its delay-queue consumer polls Redis at least once a second,
however busy its actor threads are): see :mod:`voxregen_adapters.broker`."""
MAX_TCP_PORT = 65_535
MAX_WORKER_THREADS = 8
"""A worker's threads share its database connection pool (SQLAlchemy's 5, and 10 more at need)
with its sweeper: at most 8, so that a thread never waits for a connection."""
_POSTGRES_DRIVER = "postgresql+psycopg"
_REDIS_SCHEMES = ("redis", "rediss", "unix")
_STORAGE_SCHEMES = ("file", "s3")

T = TypeVar("T")


def _masked(url: str | None) -> str:
    """``repr`` of a URL with its password (if any) replaced by ``***``."""
    if url is None:
        return "None"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "'<unparsable URL>'"
    if parts.password is None:
        return repr(url)
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return repr(parts._replace(netloc=f"{user}:***@{hostinfo}").geturl())


@attrs.frozen
class WorkerSettings:
    """What only the worker reads: its model device, the stub's pace, its recovery times,
    the retention of the feature cache and of jobs' objects, and its metrics port."""

    model_device: Device = Device.CPU
    """Where the generator runs; passed through the generator port (the stub ignores it)."""
    threads: int = 2
    """Messages one worker process runs at once (1 to ``MAX_WORKER_THREADS``). Two let one
    chunk's storage, database and queue round trips overlap the next chunk's generation (and
    the stub use both cores); a stem's preparation and delivery, and a profile's build, still
    run one at a time in a process (memory), and the paced stub one chunk at a time, as one GPU
    would."""
    stub_seconds_per_chunk: float = 0.0
    """Least wall time the stub generator takes per chunk, standing in for GPU time."""
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S
    """A worker silent this long is dead: its unfinished messages go back to the queue. The
    API's broker judges with it too (it also runs the dead-worker maintenance)."""
    stall_timeout_s: float = 300.0
    """A queued or running job whose row has not changed this long is queued again."""
    job_deadline_s: float = 7200.0
    """A job not done this long after it was created fails with ``render_timed_out``."""
    feature_cache_max_idle_s: float = 30 * 86_400.0
    """A feature-cache entry unused this long is evicted (unless a job in flight may read it)."""
    retention: RetentionPolicy = attrs.field(factory=RetentionPolicy)
    """How long jobs' chunks, inputs and outputs are kept (:mod:`voxregen_core.retention`)."""
    metrics_port: int | None = None
    """The TCP port the worker serves its Prometheus metrics on (all interfaces); None: off.
    ``voxregen serve --workers N`` gives its workers this port and the N - 1 after it."""


@attrs.frozen
class WebhookSettings:
    """How webhooks are sent (:mod:`voxregen_core.webhooks`)."""

    allow_private_networks: bool = False
    """Let webhook URLs reach loopback, private and link-local addresses (tests, a platform on
    the same private network); off, they are refused, so that no user can make the service
    POST to its own network."""
    timeout_s: float = webhooks.TIMEOUT_S
    retry_schedule_s: tuple[float, ...] = webhooks.RETRY_SCHEDULE_S


class AuthMode(enum.Enum):
    """How the API knows its caller (:mod:`voxregen_http.auth`)."""

    API_KEYS = "api_keys"
    """``Authorization: Bearer <API key>`` on every /v1 request."""
    DEV_HEADER = "dev_header"
    """The brief's development stub: the caller's UUID in ``X-User-Id``, taken on trust."""


@attrs.frozen
class LimitSettings:
    """What one user may ask of the API (:mod:`voxregen_http.rate_limit`,
    :func:`voxregen_core.use_cases.render_jobs.create_job`)."""

    max_active_jobs_per_user: int = 8
    """Queued and running jobs a user may have; the next create or clone is a 429."""
    rate_limit_per_min: int = 600
    """Requests a user may send per minute on average (a token bucket of as many tokens)."""


@attrs.frozen
class Settings:
    """The service's configuration. ``None`` means unset: the database and Redis then come
    from the embedded runtime (:mod:`voxregen_adapters.embedded`) under ``data_dir``."""

    database_url: str | None = attrs.field(repr=_masked)
    """SQLAlchemy URL, always with the psycopg 3 driver (``postgresql+psycopg://…``)."""
    redis_url: str | None = attrs.field(repr=_masked)
    storage_url: str | None = attrs.field(repr=_masked)
    """``file:///abs/dir`` or ``s3://…``; parsed by :mod:`voxregen_adapters.storage_url`."""
    public_url: str
    """Base URL of the HTTP app as clients reach it, without a trailing slash."""
    signing_key: bytes | None = attrs.field(repr=False)
    """HMAC key of local presigned URLs; required when ``storage_url`` is ``file://``."""
    cache_dir: Path
    data_dir: Path
    auth_mode: AuthMode | None = None
    """``None``: unset. The API then asks for API keys; ``voxregen serve`` chooses
    ``dev_header`` for its children when it listens on a loopback address alone."""
    worker: WorkerSettings = attrs.field(factory=WorkerSettings)
    webhooks: WebhookSettings = attrs.field(factory=WebhookSettings)
    limits: LimitSettings = attrs.field(factory=LimitSettings)


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """Read and check every ``VOXREGEN_*`` variable; raises :class:`ConfigError`."""
    storage_url = _read(environ, "VOXREGEN_STORAGE_URL", _storage_url)
    signing_key = _read(environ, "VOXREGEN_SIGNING_KEY", _signing_key, secret=True)
    if signing_key is None and storage_url is not None and storage_url.startswith("file:"):
        raise ConfigError(
            "VOXREGEN_SIGNING_KEY is required when VOXREGEN_STORAGE_URL is file://… (it signs "
            f"the local presigned URLs); set it to at least {MIN_SIGNING_KEY_BYTES} random "
            'characters, e.g. python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return Settings(
        database_url=_read(environ, "VOXREGEN_DATABASE_URL", _database_url),
        redis_url=_read(environ, "VOXREGEN_REDIS_URL", _redis_url),
        storage_url=storage_url,
        public_url=_read(environ, "VOXREGEN_PUBLIC_URL", _public_url) or DEFAULT_PUBLIC_URL,
        signing_key=signing_key,
        cache_dir=_read(environ, "VOXREGEN_CACHE_DIR", _absolute_dir)
        or Path(platformdirs.user_cache_dir("voxregen")),
        data_dir=_read(environ, "VOXREGEN_DATA_DIR", _absolute_dir)
        or Path(platformdirs.user_data_dir("voxregen")),
        auth_mode=_read(environ, "VOXREGEN_AUTH_MODE", _choice(AuthMode)),
        worker=_worker_settings(environ),
        webhooks=_webhook_settings(environ),
        limits=_limit_settings(environ),
    )


def _worker_settings(environ: Mapping[str, str]) -> WorkerSettings:
    defaults = WorkerSettings()
    values = {
        "model_device": _read(environ, "VOXREGEN_MODEL_DEVICE", _choice(Device)),
        "threads": _read(
            environ,
            "VOXREGEN_WORKER_THREADS",
            _whole_number(minimum=1, maximum=MAX_WORKER_THREADS),
        ),
        "stub_seconds_per_chunk": _read(
            environ, "VOXREGEN_STUB_SECONDS_PER_CHUNK", _seconds(minimum_s=0.0)
        ),
        "heartbeat_timeout_s": _read(
            environ, "VOXREGEN_WORKER_HEARTBEAT_TIMEOUT_S", _seconds(minimum_s=1.0)
        ),
        "stall_timeout_s": _read(environ, "VOXREGEN_STALL_TIMEOUT_S", _seconds(minimum_s=1.0)),
        "job_deadline_s": _read(environ, "VOXREGEN_JOB_DEADLINE_S", _seconds(minimum_s=1.0)),
        "feature_cache_max_idle_s": _read(
            environ, "VOXREGEN_FEATURE_CACHE_MAX_IDLE_S", _seconds(minimum_s=1.0)
        ),
        "retention": _retention_policy(environ, defaults.retention),
        "metrics_port": _read(environ, "VOXREGEN_WORKER_METRICS_PORT", _tcp_port),
    }
    return attrs.evolve(defaults, **{name: v for name, v in values.items() if v is not None})


def _retention_policy(environ: Mapping[str, str], defaults: RetentionPolicy) -> RetentionPolicy:
    values = {
        "chunks_s": _read(environ, "VOXREGEN_RETENTION_CHUNKS_S", _seconds(minimum_s=1.0)),
        "inputs_s": _read(environ, "VOXREGEN_RETENTION_INPUTS_S", _seconds(minimum_s=1.0)),
        "outputs_s": _read(environ, "VOXREGEN_RETENTION_OUTPUTS_S", _seconds(minimum_s=1.0)),
    }
    return attrs.evolve(defaults, **{name: v for name, v in values.items() if v is not None})


def _webhook_settings(environ: Mapping[str, str]) -> WebhookSettings:
    values = {
        "allow_private_networks": _read(
            environ, "VOXREGEN_WEBHOOK_ALLOW_PRIVATE_NETWORKS", _boolean
        ),
        "timeout_s": _read(environ, "VOXREGEN_WEBHOOK_TIMEOUT_S", _seconds(minimum_s=0.1)),
        "retry_schedule_s": _read(environ, "VOXREGEN_WEBHOOK_RETRY_SCHEDULE_S", _schedule),
    }
    return attrs.evolve(WebhookSettings(), **{n: v for n, v in values.items() if v is not None})


def _limit_settings(environ: Mapping[str, str]) -> LimitSettings:
    values = {
        "max_active_jobs_per_user": _read(
            environ, "VOXREGEN_MAX_ACTIVE_JOBS_PER_USER", _whole_number(minimum=1)
        ),
        "rate_limit_per_min": _read(
            environ, "VOXREGEN_RATE_LIMIT_PER_MIN", _whole_number(minimum=1)
        ),
    }
    return attrs.evolve(LimitSettings(), **{n: v for n, v in values.items() if v is not None})


def _whole_number(*, minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def cast(value: str) -> int:
        # decimal ASCII digits only, as for a TCP port (int() would take 1_000 or "٣")
        digits = value.isascii() and value.isdigit()
        if not digits or int(value) < minimum or (maximum is not None and int(value) > maximum):
            bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise ValueError(f"expected a whole number {bounds}")
        return int(value)

    return cast


def _boolean(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ValueError("expected true or false")
    return value.lower() == "true"


def _schedule(value: str) -> tuple[float, ...]:
    """Comma-separated waits in seconds, e.g. ``5,300,1800``."""
    return tuple(_seconds(minimum_s=0.0)(part) for part in value.split(","))


E = TypeVar("E", bound=enum.Enum)


def _choice(choices: type[E]) -> Callable[[str], E]:
    """A cast to one of the enum's members, by value."""

    def cast(value: str) -> E:
        try:
            return choices(value)
        except ValueError:
            raise ValueError(f"expected one of {', '.join(c.value for c in choices)}") from None

    return cast


def _tcp_port(value: str) -> int:
    """Decimal ASCII digits only (``int`` would also take ``9_100``, `` 9100`` or other
    scripts' digits)."""
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_TCP_PORT:
        raise ValueError(f"expected a TCP port, a whole number from 1 to {MAX_TCP_PORT}")
    return int(value)


def _seconds(*, minimum_s: float) -> Callable[[str], float]:
    def cast(value: str) -> float:
        seconds = float(value)  # ValueError names the value
        if not math.isfinite(seconds) or seconds < minimum_s:
            raise ValueError(f"expected a number of seconds >= {minimum_s:g}")
        return seconds

    return cast


def _read(
    environ: Mapping[str, str], name: str, cast: Callable[[str], T], *, secret: bool = False
) -> T | None:
    """``cast`` of the variable's value, ``None`` if it is unset. ``cast`` raises ValueError
    with the reason; this turns it into a ConfigError naming the variable and the value."""
    value = environ.get(name)
    if value is None:
        return None
    try:
        if not value.strip():
            raise ValueError("it is set but empty; unset it to use the default")
        return cast(value)
    except ValueError as error:
        shown = "" if secret else f"={_masked(value)}"
        raise ConfigError(f"{name}{shown} is malformed: {error}") from None


def _database_url(value: str) -> str:
    parts = _split(value, ("postgresql", _POSTGRES_DRIVER))
    if not parts.path.strip("/"):
        raise ValueError(f"expected {_POSTGRES_DRIVER}://user:password@host:port/database")
    return _POSTGRES_DRIVER + value[len(parts.scheme) :]


def _redis_url(value: str) -> str:
    parts = _split(value, _REDIS_SCHEMES)
    if parts.scheme == "unix" and not parts.path.startswith("/"):
        raise ValueError("expected unix:///absolute/path.sock")
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"expected {parts.scheme}://host:port/db")
    return value


def _storage_url(value: str) -> str:
    _split(value, _STORAGE_SCHEMES)
    return value


def _public_url(value: str) -> str:
    parts = _split(value, ("http", "https"))
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ValueError("expected http(s)://host[:port][/path] with no query or credentials")
    return value.rstrip("/")


def _split(value: str, schemes: tuple[str, ...]) -> SplitResult:
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError(f"the scheme must be one of {', '.join(f'{s}://' for s in schemes)}")
    _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    return parts


def _signing_key(value: str) -> bytes:
    key = value.encode()
    if len(key) < MIN_SIGNING_KEY_BYTES:
        raise ValueError(f"it must be at least {MIN_SIGNING_KEY_BYTES} bytes, got {len(key)}")
    return key


def _absolute_dir(value: str) -> Path:
    path = Path(value)
    if not path.is_absolute():
        raise ValueError("expected an absolute folder path")
    return path
