"""Alembic environment: offline (emit SQL) and online (migrate a live database).

The URL is an explicit override when the caller sets ``config.attributes["database_url"]``
(``voxregen_adapters.db.migrate`` does), else the ``VOXREGEN_DATABASE_URL`` setting.
"""

from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

from voxregen_adapters.db.engine import configured_database_url, normalized_database_url
from voxregen_adapters.db.tables import metadata

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def _url() -> sa.URL:
    return normalized_database_url(
        config.attributes.get("database_url") or configured_database_url()
    )


def run_migrations_offline() -> None:
    """Write the migration SQL to stdout (``alembic upgrade head --sql``), no connection."""
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the database in one transaction (PostgreSQL has transactional DDL)."""
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=metadata)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
