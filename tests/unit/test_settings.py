"""load_settings: every VOXREGEN_* variable cast strictly, secrets never shown."""

from pathlib import Path

import attrs
import pytest

from voxregen_adapters.settings import (
    DEFAULT_PUBLIC_URL,
    AuthMode,
    LimitSettings,
    Settings,
    WorkerSettings,
    load_settings,
)
from voxregen_core.errors import ConfigError
from voxregen_core.generator import Device
from voxregen_core.retention import RetentionPolicy

KEY = "k" * 32


def test_unset_optional_values_are_none_and_the_rest_have_defaults():
    settings = load_settings({})
    assert settings.database_url is None
    assert settings.redis_url is None
    assert settings.storage_url is None
    assert settings.signing_key is None
    assert settings.public_url == DEFAULT_PUBLIC_URL
    assert settings.cache_dir.is_absolute()
    assert settings.data_dir.is_absolute()


def test_every_variable_is_read_and_cast():
    settings = load_settings(
        {
            "VOXREGEN_DATABASE_URL": "postgresql://app:pw@db.internal:5432/voxregen",
            "VOXREGEN_REDIS_URL": "redis://127.0.0.1:6379/2",
            "VOXREGEN_STORAGE_URL": "file:///srv/voxregen/objects",
            "VOXREGEN_PUBLIC_URL": "https://voxregen.example/api/",
            "VOXREGEN_SIGNING_KEY": KEY,
            "VOXREGEN_CACHE_DIR": "/var/cache/voxregen",
            "VOXREGEN_DATA_DIR": "/var/lib/voxregen",
        }
    )
    assert settings == Settings(
        database_url="postgresql+psycopg://app:pw@db.internal:5432/voxregen",
        redis_url="redis://127.0.0.1:6379/2",
        storage_url="file:///srv/voxregen/objects",
        public_url="https://voxregen.example/api",
        signing_key=KEY.encode(),
        cache_dir=Path("/var/cache/voxregen"),
        data_dir=Path("/var/lib/voxregen"),
    )


def test_the_worker_settings_have_defaults_and_are_read_and_cast():
    assert load_settings({}).worker == WorkerSettings(
        model_device=Device.CPU,
        threads=2,
        stub_seconds_per_chunk=0.0,
        heartbeat_timeout_s=10.0,
        stall_timeout_s=300.0,
        job_deadline_s=7200.0,
        feature_cache_max_idle_s=2_592_000.0,  # 30 days
        retention=RetentionPolicy(
            chunks_s=172_800.0,  # 48 hours
            inputs_s=2_592_000.0,  # 30 days
            outputs_s=5_184_000.0,  # 60 days
        ),
        metrics_port=None,  # off
    )
    worker = load_settings(
        {
            "VOXREGEN_MODEL_DEVICE": "cuda",
            "VOXREGEN_WORKER_THREADS": "4",
            "VOXREGEN_STUB_SECONDS_PER_CHUNK": "1.5",
            "VOXREGEN_WORKER_HEARTBEAT_TIMEOUT_S": "5",
            "VOXREGEN_STALL_TIMEOUT_S": "30",
            "VOXREGEN_JOB_DEADLINE_S": "600",
            "VOXREGEN_FEATURE_CACHE_MAX_IDLE_S": "86400",
            "VOXREGEN_RETENTION_CHUNKS_S": "3600",
            "VOXREGEN_RETENTION_INPUTS_S": "604800",
            "VOXREGEN_RETENTION_OUTPUTS_S": "1209600.5",
            "VOXREGEN_WORKER_METRICS_PORT": "9100",
        }
    ).worker
    assert worker == WorkerSettings(
        model_device=Device.CUDA,
        threads=4,
        stub_seconds_per_chunk=1.5,
        heartbeat_timeout_s=5.0,
        stall_timeout_s=30.0,
        job_deadline_s=600.0,
        feature_cache_max_idle_s=86_400.0,
        retention=RetentionPolicy(chunks_s=3600.0, inputs_s=604_800.0, outputs_s=1_209_600.5),
        metrics_port=9100,
    )


def test_auth_mode_is_unset_by_default_and_the_limits_have_defaults():
    settings = load_settings({})
    assert settings.auth_mode is None  # each command chooses: voxregen api asks for keys
    assert settings.limits == LimitSettings(max_active_jobs_per_user=8, rate_limit_per_min=600)
    read = load_settings(
        {
            "VOXREGEN_AUTH_MODE": "dev_header",
            "VOXREGEN_MAX_ACTIVE_JOBS_PER_USER": "3",
            "VOXREGEN_RATE_LIMIT_PER_MIN": "120",
        }
    )
    assert read.auth_mode is AuthMode.DEV_HEADER
    assert read.limits == LimitSettings(max_active_jobs_per_user=3, rate_limit_per_min=120)
    assert load_settings({"VOXREGEN_AUTH_MODE": "api_keys"}).auth_mode is AuthMode.API_KEYS


def test_a_unix_socket_redis_and_a_socket_postgres_are_accepted():
    settings = load_settings(
        {
            "VOXREGEN_DATABASE_URL": "postgresql+psycopg://postgres@/postgres?host=/run/pg",
            "VOXREGEN_REDIS_URL": "unix:///run/redis/redis.sock?db=0",
        }
    )
    assert settings.database_url == "postgresql+psycopg://postgres@/postgres?host=/run/pg"
    assert settings.redis_url == "unix:///run/redis/redis.sock?db=0"


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("VOXREGEN_DATABASE_URL", "mysql://db/voxregen", "scheme must be one of postgresql://"),
        (
            "VOXREGEN_DATABASE_URL",
            "postgresql+psycopg2://db/x",
            "scheme must be one of postgresql://",
        ),
        ("VOXREGEN_DATABASE_URL", "postgresql://db:port/x", "Port could not be cast"),
        ("VOXREGEN_DATABASE_URL", "postgresql://db:5432", "expected postgresql\\+psycopg://"),
        ("VOXREGEN_DATABASE_URL", "localhost", "scheme must be one of postgresql://"),
        ("VOXREGEN_REDIS_URL", "127.0.0.1:6379", "scheme must be one of redis://"),
        ("VOXREGEN_REDIS_URL", "redis://:6379/0", "expected redis://host:port/db"),
        ("VOXREGEN_REDIS_URL", "redis://h:99999/0", "out of range"),
        ("VOXREGEN_REDIS_URL", "unix://relative.sock", "expected unix:///absolute"),
        ("VOXREGEN_STORAGE_URL", "/srv/objects", "scheme must be one of file://, s3://"),
        ("VOXREGEN_PUBLIC_URL", "127.0.0.1:8000", "scheme must be one of http://, https://"),
        ("VOXREGEN_PUBLIC_URL", "http://h/?a=1", "no query"),
        ("VOXREGEN_CACHE_DIR", "relative/cache", "absolute folder path"),
        ("VOXREGEN_DATA_DIR", "data", "absolute folder path"),
        ("VOXREGEN_DATA_DIR", "", "set but empty"),
        ("VOXREGEN_MODEL_DEVICE", "gpu", "expected one of cpu, cuda"),
        ("VOXREGEN_STUB_SECONDS_PER_CHUNK", "-1", "seconds >= 0"),
        ("VOXREGEN_STUB_SECONDS_PER_CHUNK", "nan", "seconds >= 0"),
        ("VOXREGEN_STUB_SECONDS_PER_CHUNK", "2s", "could not convert"),
        ("VOXREGEN_WORKER_HEARTBEAT_TIMEOUT_S", "0.5", "seconds >= 1"),
        ("VOXREGEN_STALL_TIMEOUT_S", "inf", "seconds >= 1"),
        ("VOXREGEN_JOB_DEADLINE_S", "0", "seconds >= 1"),
        ("VOXREGEN_FEATURE_CACHE_MAX_IDLE_S", "30d", "could not convert"),
        ("VOXREGEN_FEATURE_CACHE_MAX_IDLE_S", "-1", "seconds >= 1"),
        ("VOXREGEN_FEATURE_CACHE_MAX_IDLE_S", "", "set but empty"),
        ("VOXREGEN_AUTH_MODE", "none", "expected one of api_keys, dev_header"),
        ("VOXREGEN_AUTH_MODE", "API_KEYS", "expected one of api_keys, dev_header"),
        ("VOXREGEN_WORKER_THREADS", "0", "whole number from 1 to 8"),
        ("VOXREGEN_WORKER_THREADS", "9", "whole number from 1 to 8"),
        ("VOXREGEN_WORKER_THREADS", "two", "whole number from 1 to 8"),
        ("VOXREGEN_MAX_ACTIVE_JOBS_PER_USER", "0", "whole number >= 1"),
        ("VOXREGEN_MAX_ACTIVE_JOBS_PER_USER", "2.5", "whole number >= 1"),
        ("VOXREGEN_RATE_LIMIT_PER_MIN", "1_000", "whole number >= 1"),
        ("VOXREGEN_RATE_LIMIT_PER_MIN", "-5", "whole number >= 1"),
        ("VOXREGEN_RETENTION_CHUNKS_S", "48h", "could not convert"),
        ("VOXREGEN_RETENTION_INPUTS_S", "0", "seconds >= 1"),
        ("VOXREGEN_RETENTION_OUTPUTS_S", "inf", "seconds >= 1"),
        ("VOXREGEN_WORKER_METRICS_PORT", "0", "TCP port, a whole number from 1 to 65535"),
        ("VOXREGEN_WORKER_METRICS_PORT", "65536", "from 1 to 65535"),
        ("VOXREGEN_WORKER_METRICS_PORT", "-9100", "from 1 to 65535"),
        ("VOXREGEN_WORKER_METRICS_PORT", "9_100", "from 1 to 65535"),
        ("VOXREGEN_WORKER_METRICS_PORT", " 9100", "from 1 to 65535"),
        ("VOXREGEN_WORKER_METRICS_PORT", "\u0669\u0661\u0660\u0660", "from 1 to 65535"),
        ("VOXREGEN_WORKER_METRICS_PORT", "9100.0", "from 1 to 65535"),
        ("VOXREGEN_WORKER_METRICS_PORT", "", "set but empty"),
    ],
)
def test_a_malformed_value_names_the_variable_the_value_and_the_reason(name, value, reason):
    with pytest.raises(ConfigError, match=rf"^{name}='.*' is malformed: .*{reason}") as caught:
        load_settings({name: value})
    assert repr(value) in str(caught.value)
    assert caught.value.code == "invalid_config"


def test_a_password_in_a_malformed_url_is_masked():
    with pytest.raises(
        ConfigError, match=r"VOXREGEN_REDIS_URL='tcp://user:\*\*\*@h:1/0'"
    ) as caught:
        load_settings({"VOXREGEN_REDIS_URL": "tcp://user:hunter2@h:1/0"})
    assert "hunter2" not in str(caught.value)


def test_file_storage_requires_a_signing_key():
    with pytest.raises(ConfigError, match="VOXREGEN_SIGNING_KEY is required when .* file://"):
        load_settings({"VOXREGEN_STORAGE_URL": "file:///srv/objects"})


def test_s3_storage_needs_no_signing_key():
    settings = load_settings({"VOXREGEN_STORAGE_URL": "s3://ak:sk@minio:9000/voxregen"})
    assert settings.signing_key is None


def test_a_short_signing_key_is_refused_without_showing_it():
    with pytest.raises(
        ConfigError, match=r"^VOXREGEN_SIGNING_KEY is malformed: .* 32 bytes, got 9"
    ):
        load_settings({"VOXREGEN_SIGNING_KEY": "too-short"})


def test_repr_never_shows_a_secret():
    settings = load_settings(
        {
            "VOXREGEN_DATABASE_URL": "postgresql://app:db-secret@db/voxregen",
            "VOXREGEN_REDIS_URL": "redis://:redis-secret@cache:6379/0",
            "VOXREGEN_STORAGE_URL": "s3://ak:s3-secret@minio:9000/voxregen",
            "VOXREGEN_SIGNING_KEY": "signing-secret-" + KEY,
        }
    )
    shown = repr(settings)
    for secret in ("db-secret", "redis-secret", "s3-secret", "signing-secret"):
        assert secret not in shown
    assert "postgresql+psycopg://app:***@db/voxregen" in shown
    assert "s3://ak:***@minio:9000/voxregen" in shown


def test_settings_are_frozen():
    settings = load_settings({})
    with pytest.raises(attrs.exceptions.FrozenInstanceError, match="can't set attribute"):
        settings.database_url = "postgresql://elsewhere/x"
