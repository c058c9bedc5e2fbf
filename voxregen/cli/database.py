"""`voxregen migrate` and `voxregen seed`: the database named by VOXREGEN_DATABASE_URL."""

import argparse
import sys

from voxregen.cli import fail
from voxregen_adapters.db import migrate
from voxregen_adapters.db.engine import configured_database_url, create_database_engine
from voxregen_adapters.seed import seed_demo
from voxregen_core.errors import ConfigError, DatabaseUnavailableError


def migrate_command(args: argparse.Namespace) -> None:
    """`voxregen migrate`."""
    url = _database_url()
    try:
        migrate.upgrade(url)
        revision = migrate.current_revision(url)
    except DatabaseUnavailableError as error:
        fail(str(error))
    print(f"voxregen: database at revision {revision} (the newest)", file=sys.stderr)


def seed_command(args: argparse.Namespace) -> None:
    """`voxregen seed`."""
    url = _database_url()
    try:
        if migrate.current_revision(url) != migrate.head_revision():
            fail("the database is not at the newest schema; run `voxregen migrate` first")
        engine = create_database_engine(url)
        try:
            outcome = seed_demo(engine)
        finally:
            engine.dispose()
    except DatabaseUnavailableError as error:
        fail(str(error))
    rows = (
        f"user {outcome.user_id}: ready profile {outcome.profile_id} with reference "
        f"{outcome.reference_id}, done job {outcome.job_id}"
    )
    done = "seeded demo" if outcome.inserted else "demo rows already there for"
    print(f"voxregen: {done} {rows}", file=sys.stderr)


def _database_url() -> str:
    try:
        return configured_database_url()
    except ConfigError as error:
        fail(str(error))
