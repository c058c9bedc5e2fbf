"""The ``voxregen`` command line.

``voxregen render INPUT.wav -o OUTPUT.wav`` runs the whole render pipeline on local files:
a progress bar on stderr, exit 0 on success, exit 2 with one line on stderr for bad input or
bad arguments (never a traceback), and the render's metrics as JSON with ``--metrics``.

``voxregen migrate`` upgrades the database named by ``VOXREGEN_DATABASE_URL`` to the newest
schema; ``voxregen seed`` inserts demo rows into it. Both fail with one line and exit 2.
"""

import argparse
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import platformdirs

from voxregen_adapters.atomic_file import write_atomically
from voxregen_adapters.bootstrap import local_render_ports
from voxregen_adapters.db import migrate
from voxregen_adapters.db.engine import configured_database_url, create_database_engine
from voxregen_adapters.progress_bar import TerminalProgressBar
from voxregen_adapters.seed import seed_demo
from voxregen_core.errors import (
    ConfigError,
    DatabaseUnavailableError,
    InvalidInputError,
    InvalidParamsError,
)
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import chunks_prefix, job_input_key
from voxregen_core.params import Quality, RenderParams, Style
from voxregen_core.pipeline import render
from voxregen_core.profiles import ProfileStatus, SingerProfile

EXIT_USAGE = 2

LOCAL_USER_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")
"""The one user of a local cache folder."""

LOCAL_PROFILE = SingerProfile(
    id=uuid.UUID("00000000-0000-4000-8000-000000000002"),
    user_id=LOCAL_USER_ID,
    name="local placeholder singer",
    status=ProfileStatus.READY,
    embedding_version="stub-v1",
)
"""The CLI renders with a built-in placeholder profile: the v1 stub generator ignores it."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2."""

    def error(self, message: str) -> NoReturn:
        _fail(f"{self.prog}: {message}")


def _fail(message: str) -> NoReturn:
    print(f"voxregen: error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="voxregen", description="Vocal regeneration.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    render_cmd = commands.add_parser(
        "render",
        help="render a WAV stem to a mastered 48 kHz 16-bit dual-mono WAV",
        description="Regenerate a vocal stem and master it to -18 LUFS, -1 dBTP.",
    )
    render_cmd.add_argument("input", type=Path, help="WAV stem, mono or stereo, up to 8 minutes")
    render_cmd.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write")
    render_cmd.add_argument("--style", choices=[style.value for style in Style])
    render_cmd.add_argument("--intensity", type=float, help="0.0 to 1.0 (default 0.5)")
    render_cmd.add_argument("--quality", choices=[quality.value for quality in Quality])
    render_cmd.add_argument(
        "--job-id",
        type=_uuid,
        help="job id (default: a new one); the same input, params and job id give the same bytes, "
        "and rerunning an interrupted job id resumes it",
    )
    render_cmd.add_argument("--metrics", type=Path, help="write the render's metrics as JSON here")
    render_cmd.add_argument(
        "--cache-dir",
        type=Path,
        help="feature cache and chunk folder (default: $VOXREGEN_CACHE_DIR, "
        "else the platform's user cache folder, e.g. ~/.cache/voxregen)",
    )
    commands.add_parser(
        "migrate",
        help="upgrade the database to the newest schema",
        description="Upgrade the PostgreSQL database named by VOXREGEN_DATABASE_URL to the "
        "newest schema (a no-op when it is there).",
    )
    commands.add_parser(
        "seed",
        help="insert demo rows",
        description="Insert demo rows into the migrated database named by "
        "VOXREGEN_DATABASE_URL: a user with a ready singer profile and its reference, and a "
        "done render job (a no-op when they are there).",
    )
    return parser


def _cache_dir(option: Path | None) -> Path:
    if option is not None:
        return option
    from_env = os.environ.get("VOXREGEN_CACHE_DIR")
    return Path(from_env) if from_env else Path(platformdirs.user_cache_dir("voxregen"))


def _render(args: argparse.Namespace) -> None:
    chosen = {"style": args.style, "intensity": args.intensity, "quality": args.quality}
    try:
        params = RenderParams.from_json({name: v for name, v in chosen.items() if v is not None})
    except InvalidParamsError as error:
        _fail(str(error))
    if not args.input.is_file():
        _fail(f"cannot read {args.input}: no such file")
    if not args.output.parent.is_dir():
        _fail(f"cannot write {args.output}: folder {args.output.parent} does not exist")

    job_id = args.job_id or uuid.uuid4()
    job = RenderJob(
        id=job_id,
        user_id=LOCAL_USER_ID,
        singer_profile_id=LOCAL_PROFILE.id,
        input_object_key=job_input_key(LOCAL_USER_ID, job_id),
        params=params,
    )
    progress = TerminalProgressBar(sys.stderr, label=f"voxregen: job {job_id}")
    ports = local_render_ports(_cache_dir(args.cache_dir), progress=progress)
    try:
        outcome = render(job, read_input=args.input.read_bytes, profile=LOCAL_PROFILE, ports=ports)
    except InvalidInputError as error:
        _fail(f"{args.input}: {error} [{error.code}]")
    except OSError as error:
        _fail(f"cannot read {args.input}: {error.strerror or error}")
    except KeyboardInterrupt:
        print(f"\nvoxregen: interrupted; rerun with --job-id {job_id} to resume", file=sys.stderr)
        sys.exit(130)

    write_atomically(args.output, outcome.output_wav)
    for key in ports.store.list(chunks_prefix(LOCAL_USER_ID, job_id)):
        ports.store.delete(key)  # chunks are temporary: the output is what stays
    metrics = outcome.metrics
    if args.metrics is not None:
        write_atomically(args.metrics, json.dumps(metrics.to_json(), indent=2).encode() + b"\n")
    print(
        f"voxregen: wrote {args.output} ({metrics.input_duration_s:.1f} s, "
        f"{_db(metrics.loudness_lufs, 'LUFS')}, {_db(metrics.true_peak_db, 'dBTP')}) "
        f"in {metrics.runtime_sec:.2f} s"
        f"{', features from cache' if metrics.feature_cache_hit else ''}",
        file=sys.stderr,
    )


def _db(value: float | None, unit: str) -> str:
    return f"{value:.2f} {unit}" if value is not None else f"silent (no {unit} reading)"


def _migrate() -> None:
    url = _database_url()
    try:
        migrate.upgrade(url)
        revision = migrate.current_revision(url)
    except DatabaseUnavailableError as error:
        _fail(str(error))
    print(f"voxregen: database at revision {revision} (the newest)", file=sys.stderr)


def _seed() -> None:
    url = _database_url()
    try:
        if migrate.current_revision(url) != migrate.head_revision():
            _fail("the database is not at the newest schema; run `voxregen migrate` first")
        engine = create_database_engine(url)
        try:
            outcome = seed_demo(engine)
        finally:
            engine.dispose()
    except DatabaseUnavailableError as error:
        _fail(str(error))
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
        _fail(str(error))


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "render":
        _render(args)
    elif args.command == "migrate":
        _migrate()
    elif args.command == "seed":
        _seed()
    return 0


def main() -> None:
    sys.exit(run())
