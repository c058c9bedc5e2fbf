"""A database migrated to head, for the PostgreSQL adapters' tests."""

import sqlalchemy as sa

from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.db.migrate import upgrade


def migrated_engine(database_url: str) -> sa.Engine:
    """Upgrade the (fresh) database at ``database_url`` to head; an engine on it, which the
    caller disposes."""
    upgrade(database_url)
    return create_database_engine(database_url)
