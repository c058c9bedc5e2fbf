"""Run the Alembic migrations in ``voxregen_adapters/db/migrations/`` against a database URL."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.db.transaction import translated_errors

SCRIPT_LOCATION = "voxregen_adapters.db:migrations"
"""The Alembic scripts as a package resource: Alembic finds ``package:folder`` through
``importlib.resources``, so an installed wheel migrates as the source tree does (the scripts are
package data, pyproject.toml). ``alembic.ini`` names the same location for the ``alembic`` CLI."""


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic config; ``database_url`` overrides ``VOXREGEN_DATABASE_URL``."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Raises :class:`~voxregen_core.errors.DatabaseUnavailableError` if the database cannot
    be reached."""
    with translated_errors():
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    with translated_errors():
        command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest revision under ``migrations/versions/``."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(database_url: str) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    engine = create_database_engine(database_url)
    try:
        with translated_errors(), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
