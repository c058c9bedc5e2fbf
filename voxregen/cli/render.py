"""`voxregen render`: the render pipeline on local files, with the local adapters.

The input starts decoding (NumPy and soxr are all it needs) on another thread before this one
imports the rest of the render, about 0.3 s of modules, and an 8-minute stem's decoding runs
beside them (docs/decisions.md).
"""

import argparse
import json
import sys
import uuid
from pathlib import Path

from voxregen.cli import EXIT_INTERRUPTED, fail
from voxregen.cli.files import check_input, check_output, same_file
from voxregen.cli.progress_bar import TerminalProgressBar
from voxregen.cli.render_options import chosen_params
from voxregen.cli.summary import summary_line
from voxregen_adapters.atomic_file import write_atomically
from voxregen_core.audio_input import read_opened_stem
from voxregen_core.errors import ConfigError, InvalidInputError
from voxregen_core.jobs import RenderJob
from voxregen_core.keys import chunks_prefix, job_input_key
from voxregen_core.parallelism import started, usable_cores
from voxregen_core.params import RenderParams
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


def _cache_dir(args: argparse.Namespace) -> Path:
    """``--cache-dir``, else the settings' (``VOXREGEN_CACHE_DIR``, the platform's default)."""
    if args.cache_dir is not None:
        return args.cache_dir
    from voxregen_adapters.settings import load_settings  # after decoding starts

    try:
        return load_settings().cache_dir
    except ConfigError as error:
        fail(str(error))


def render_command(args: argparse.Namespace) -> None:
    """`voxregen render`."""
    params = RenderParams.from_json(chosen_params(args))
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
    try:
        decoded = started(lambda: read_opened_stem(lambda: args.input.open("rb")))
        # Loaded while the input decodes (the module docstring):
        from voxregen.composition.local_render import local_render_ports
        from voxregen_core.pipeline import render

        ports = local_render_ports(_cache_dir(args), progress=progress)
        with progress:  # a bar the render left part-drawn is ended before anything else is said
            outcome = render(
                job,
                read_input=decoded,
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
    print(summary_line(args.output, metrics.to_json()), file=sys.stderr)


def _check_files(args: argparse.Namespace) -> None:
    """Refuse, before any work is done, an input that is not a file, and an output (``-o``,
    ``--metrics``) that cannot be written or would overwrite the input stem or the other
    output."""
    check_input(args.input)
    check_output("-o", args.output, not_over=args.input)
    if args.metrics is not None:
        check_output("--metrics", args.metrics, not_over=args.input)
        if same_file(args.metrics, args.output):
            fail(f"cannot write --metrics {args.metrics}: it is the -o file; name another file")


def _write(option: str, path: Path, data: bytes) -> None:
    """Write an output; a place that refuses it (a read-only file system, a full disk) is
    the user's to fix, said in one line like every other refusal."""
    try:
        write_atomically(path, data)
    except OSError as error:
        fail(f"cannot write {option} {path}: {error.strerror or error}")
