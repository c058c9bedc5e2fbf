"""`voxregen render`: the render pipeline on local files, with the local adapters."""

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

from voxregen.cli import EXIT_INTERRUPTED, fail
from voxregen.cli.progress_bar import TerminalProgressBar
from voxregen.composition.local_render import local_render_ports
from voxregen_adapters.atomic_file import write_atomically
from voxregen_adapters.settings import Settings, load_settings
from voxregen_core.errors import ConfigError, InvalidInputError, InvalidParamsError
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import chunks_prefix, job_input_key
from voxregen_core.parallelism import usable_cores
from voxregen_core.params import MAX_INTENSITY, MIN_INTENSITY, RenderParams
from voxregen_core.pipeline import render
from voxregen_core.profiles import ProfileStatus, SingerProfile

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


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        fail(str(error))


def render_command(args: argparse.Namespace) -> None:
    """`voxregen render`."""
    chosen = {"style": args.style, "intensity": args.intensity, "quality": args.quality}
    try:
        params = RenderParams.from_json({name: v for name, v in chosen.items() if v is not None})
    except InvalidParamsError as error:  # argparse's choices checked --style and --quality
        fail(
            f"--intensity must be from {MIN_INTENSITY:.1f} to {MAX_INTENSITY:.1f}, "
            f"got {args.intensity:g} [{error.code}]"
        )
    _check_files(args)

    job_id = args.job_id or uuid.uuid4()
    job = RenderJob(
        id=job_id,
        user_id=LOCAL_USER_ID,
        singer_profile_id=LOCAL_PROFILE.id,
        input_object_key=job_input_key(LOCAL_USER_ID, job_id),
        params=params,
    )
    progress = TerminalProgressBar(sys.stderr, label=f"voxregen: job {job_id}")
    ports = local_render_ports(args.cache_dir or _settings().cache_dir, progress=progress)
    try:
        with progress:  # a bar the render left part-drawn is ended before anything else is said
            outcome = render(
                job,
                open_input=lambda: args.input.open("rb"),
                profile=LOCAL_PROFILE,
                ports=ports,
                threads=usable_cores(),
            )
    except InvalidInputError as error:
        fail(f"{args.input}: {error} [{error.code}]")
    except OSError as error:  # the input, or the cache folder (--cache-dir) being written
        if error.filename is None or Path(error.filename) == args.input:
            fail(f"cannot read {args.input}: {error.strerror or error}")
        fail(f"cannot write {error.filename}: {error.strerror or error}")
    except KeyboardInterrupt:
        print(f"voxregen: interrupted; rerun with --job-id {job_id} to resume", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)

    _write("-o", args.output, outcome.output_wav)
    for key in ports.store.list(chunks_prefix(LOCAL_USER_ID, job_id)):
        ports.store.delete(key)  # chunks are temporary: the output is what stays
    metrics = outcome.metrics
    if args.metrics is not None:
        _write("--metrics", args.metrics, json.dumps(metrics.to_json(), indent=2).encode() + b"\n")
    print(
        f"voxregen: wrote {args.output} ({metrics.input_duration_s:.1f} s, "
        f"{_db(metrics.loudness_lufs, 'LUFS')}, {_db(metrics.true_peak_db, 'dBTP')}) "
        f"in {metrics.runtime_sec:.2f} s"
        f"{', features from cache' if metrics.feature_cache_hit else ''}",
        file=sys.stderr,
    )


def _check_files(args: argparse.Namespace) -> None:
    """Refuse, before any work is done, an input that is not a file, and an output (``-o``,
    ``--metrics``) that is a folder, is in a folder that does not exist, or would overwrite
    the input stem or the other output."""
    if args.input.is_dir():
        fail(f"cannot read {args.input}: it is a folder, not a WAV file")
    if not args.input.is_file():
        fail(f"cannot read {args.input}: no such file")
    outputs = [("-o", args.output)]
    if args.metrics is not None:
        outputs.append(("--metrics", args.metrics))
    for option, path in outputs:
        if path.is_dir():
            fail(f"cannot write {option} {path}: it is a folder; name a file to write")
        if not path.parent.is_dir():
            fail(f"cannot write {option} {path}: folder {path.parent} does not exist")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            fail(f"cannot write {option} {path}: folder {path.parent} is not writable")
        if _same_file(path, args.input):
            fail(f"cannot write {option} {path}: it is the input stem; name another file")
    if args.metrics is not None and _same_file(args.metrics, args.output):
        fail(f"cannot write --metrics {args.metrics}: it is the -o file; name another file")


def _write(option: str, path: Path, data: bytes) -> None:
    """Write an output; a place that refuses it (a read-only file system, a full disk) is
    the user's to fix, said in one line like every other refusal."""
    try:
        write_atomically(path, data)
    except OSError as error:
        fail(f"cannot write {option} {path}: {error.strerror or error}")


def _same_file(a: Path, b: Path) -> bool:
    """``a`` and ``b`` name one file: the same path, or (if both exist) a symlink or a hard
    link to the other (same device and inode)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def _db(value: float | None, unit: str) -> str:
    return f"{value:.2f} {unit}" if value is not None else f"silent (no {unit} reading)"
