"""`voxregen keys create|list|revoke`: the API keys of ``api_keys`` mode
(:mod:`voxregen_core.api_keys`).

The keys live in the database named by ``VOXREGEN_DATABASE_URL``; unset, in the embedded
PostgreSQL of ``voxregen serve``'s ``--data-dir`` (attached to while ``serve`` runs, started
for the command and stopped after otherwise). ``create`` prints the new key once, as the last
line of stdout (``KEY=$(voxregen keys create …)`` keeps it); the service stores only its
digest.
"""

import argparse
import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime

from voxregen.cli import fail
from voxregen_adapters import embedded
from voxregen_adapters.clock import SystemClock
from voxregen_adapters.db import migrate
from voxregen_adapters.db.api_key_repository import PostgresApiKeyRepository
from voxregen_adapters.db.engine import create_database_engine
from voxregen_adapters.settings import load_settings
from voxregen_core.api_keys import ApiKey
from voxregen_core.errors import ConfigError, InvalidParamsError, NotFoundError, VoxregenError
from voxregen_core.use_cases.api_keys import create_api_key, list_api_keys, revoke_api_key


def create_command(args: argparse.Namespace) -> None:
    with _repository(args) as keys:
        try:
            made = create_api_key(keys, user_id=args.user_id, name=args.name)
        except InvalidParamsError as error:
            fail(str(error))
    print(
        f"voxregen: made API key {made.row.id} ({made.row.prefix}…) for user {args.user_id}; "
        "it is shown this once",
        file=sys.stderr,
    )
    print(made.key)


def list_command(args: argparse.Namespace) -> None:
    with _repository(args) as keys:
        rows = list_api_keys(keys, user_id=args.user_id)
    print("id\tprefix\tname\tcreated_at\tlast_used_at\trevoked_at")
    for row in rows:
        print("\t".join(_columns(row)))


def revoke_command(args: argparse.Namespace) -> None:
    with _repository(args) as keys:
        try:
            row = revoke_api_key(keys, SystemClock(), key_id=args.key_id)
        except NotFoundError as error:
            fail(str(error))
    print(
        f"voxregen: revoked API key {row.id} ({row.prefix}…) of user {row.user_id}", file=sys.stderr
    )


def _columns(row: ApiKey) -> list[str]:
    def when(moment: datetime | None) -> str:
        return "-" if moment is None else moment.isoformat(timespec="seconds")

    return [
        str(row.id),
        row.prefix + "…",
        row.name or "-",
        when(row.created_at),
        when(row.last_used_at),
        when(row.revoked_at),
    ]


@contextlib.contextmanager
def _repository(args: argparse.Namespace) -> Iterator[PostgresApiKeyRepository]:
    try:
        with _database_url(args) as url:
            if migrate.current_revision(url) != migrate.head_revision():
                fail("the database is not at the newest schema; run `voxregen migrate` first")
            engine = create_database_engine(url)
            try:
                yield PostgresApiKeyRepository(engine)
            finally:
                engine.dispose()
    except (ConfigError, VoxregenError) as error:
        fail(str(error))


@contextlib.contextmanager
def _database_url(args: argparse.Namespace) -> Iterator[str]:
    url = load_settings().database_url
    if url is not None:
        yield url
        return
    data_dir = args.data_dir.expanduser().resolve()
    if not (data_dir / "pgdata").is_dir():
        raise ConfigError(
            f"VOXREGEN_DATABASE_URL is not set and {data_dir} holds no voxregen serve database; "
            "set one or pass --data-dir"
        )
    postgres = embedded.start_postgres(data_dir)
    try:
        yield postgres.url
    finally:
        if postgres.started_here:
            postgres.stop()
