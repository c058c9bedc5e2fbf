"""Engines for the service's PostgreSQL database, always over psycopg 3."""

import sqlalchemy as sa

from voxregen_adapters.settings import load_settings
from voxregen_core.errors import ConfigError

_DRIVER = "postgresql+psycopg"


def configured_database_url() -> str:
    """``VOXREGEN_DATABASE_URL`` from the settings; raises :class:`ConfigError` when unset."""
    url = load_settings().database_url
    if url is None:
        raise ConfigError(
            "VOXREGEN_DATABASE_URL is not set; set it to postgresql://user:password@host:port/db"
        )
    return url


def normalized_database_url(url: str) -> sa.URL:
    """``url`` with the psycopg 3 driver: ``postgres://`` and ``postgresql://`` (any driver)
    become ``postgresql+psycopg://``; anything else raises :class:`ConfigError`."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError("not a database URL (expected postgresql://...)") from None
    if parsed.get_backend_name() not in {"postgres", "postgresql"}:
        raise ConfigError(f"the database must be PostgreSQL, got {parsed.drivername}://")
    return parsed.set(drivername=_DRIVER)


def create_database_engine(url: str) -> sa.Engine:
    """A pooled engine for ``url``; connects lazily, on first use."""
    return sa.create_engine(normalized_database_url(url), pool_pre_ping=True)
