"""The ``voxregen`` command line.

``voxregen render INPUT.wav -o OUTPUT.wav`` runs the whole render pipeline on local files;
``voxregen remote …`` does the same (and more) through a running service; ``voxregen migrate``
and ``voxregen seed`` manage the database, ``voxregen keys`` the API keys. Every command exits
0 on success, 2 with one line on stderr for bad input, arguments or configuration
(:func:`fail`), 1 with one line naming the error's code when it fails for any other reason (a
generator that returns NaN, a bug: :func:`run` turns whatever escapes a command into that
line) and 130 when interrupted; never with a traceback. ``voxregen remote`` adds 3 (the job,
or the profile's build, failed or was canceled) and 4 (the service could not be reached or
did not answer as the API does). Each command's module is imported only when that command
runs, so ``render`` does not pay for the database libraries.
"""

import argparse
import importlib
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from voxregen_adapters.blas_threads import one_blas_thread
from voxregen_adapters.malloc_tuning import return_freed_buffers_to_the_os
from voxregen_core.errors import VoxregenError
from voxregen_core.jobs import JobStatus

EXIT_FAILED = 1
"""The command failed, and not because of its input, arguments or configuration."""
EXIT_USAGE = 2
"""Bad input, arguments or configuration: the user can fix it."""
EXIT_JOB_FAILED = 3
"""``voxregen remote``: the job, or the profile's build, ended failed or canceled."""
EXIT_UNREACHABLE = 4
"""``voxregen remote``: the service could not be reached, or answered as no voxregen API does."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (SIGINT), as a shell reports a process that SIGINT ended."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit 2, naming the command
    (``voxregen: error: render: argument --style: …``)."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("voxregen").strip()
        fail(f"{command}: {message}" if command else message)


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: the user's input, arguments or configuration are wrong."""
    exit_with(EXIT_USAGE, message)


def exit_with(status: int, message: str) -> NoReturn:
    """``voxregen: error: <message>`` as one line on stderr, and exit ``status``."""
    _say_error(message)
    sys.exit(status)


def _say_error(message: str) -> None:
    """``voxregen: error: <message>`` on stderr, as one line whatever ``message`` holds."""
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"voxregen: error: {one_line}", file=sys.stderr)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    from voxregen.cli.render_options import add_render_options  # it needs this module's fail

    parser = _Parser(prog="voxregen", description="Vocal regeneration.")
    commands = parser.add_subparsers(dest=argparse.SUPPRESS, required=True, parser_class=_Parser)
    render_cmd = commands.add_parser(
        "render",
        help="render a WAV stem to a mastered 48 kHz 16-bit dual-mono WAV",
        description="Regenerate a vocal stem and master it to -18 LUFS, -1 dBTP.",
    )
    # its process ends once it returns, without the interpreter's teardown: the files are
    # written and fsynced by then, and unloading its modules and freeing the render's
    # objects one by one cost 0.15-0.3 s of an 8-minute render's 2-3 s (docs/decisions.md)
    render_cmd.set_defaults(handler="render:render_command", skip_teardown=True)
    render_cmd.add_argument("input", type=Path, help="WAV stem, mono or stereo, up to 8 minutes")
    render_cmd.add_argument("-o", "--output", type=Path, required=True, help="WAV file to write")
    add_render_options(render_cmd)
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
    migrate_cmd = commands.add_parser(
        "migrate",
        help="upgrade the database to the newest schema",
        description="Upgrade the PostgreSQL database named by VOXREGEN_DATABASE_URL to the "
        "newest schema (a no-op when it is there).",
    )
    seed_cmd = commands.add_parser(
        "seed",
        help="insert demo rows",
        description="Insert demo rows into the migrated database named by "
        "VOXREGEN_DATABASE_URL: a user with a ready singer profile and its reference, and a "
        "done render job (a no-op when they are there).",
    )
    api_cmd = commands.add_parser(
        "api",
        help="run the HTTP API",
        description="Run the HTTP API (uvicorn) over the configured database, Redis and storage.",
    )
    api_cmd.add_argument("--host", default="127.0.0.1")
    api_cmd.add_argument("--port", type=int, default=8000)
    api_cmd.set_defaults(handler="processes:api_command")
    worker_cmd = commands.add_parser(
        "worker",
        help="run a render worker",
        description="Run a worker that takes profile builds and render jobs from the queue.",
    )
    worker_cmd.set_defaults(handler="processes:worker_command")
    serve_cmd = commands.add_parser(
        "serve",
        help="run the whole service on this machine",
        description="All-in-one: embedded PostgreSQL and Redis unless their URLs are set, the "
        "local object store unless VOXREGEN_STORAGE_URL is set, migrations, then the API and a "
        "worker as supervised child processes. Ctrl-C stops everything; data survives restarts.",
    )
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--data-dir", type=Path, default=Path(".voxregen"))
    serve_cmd.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes to run (default 1); one job's chunks are shared among them",
    )
    serve_cmd.set_defaults(handler="processes:serve_command")
    _add_keys_commands(commands)
    _add_remote_commands(commands, add_render_options)
    migrate_cmd.set_defaults(handler="database:migrate_command")
    seed_cmd.set_defaults(handler="database:seed_command")
    return parser


def _add_keys_commands(commands: argparse._SubParsersAction) -> None:
    keys_cmd = commands.add_parser(
        "keys",
        help="make, list and revoke API keys",
        description="API keys for VOXREGEN_AUTH_MODE=api_keys, in the database of "
        "VOXREGEN_DATABASE_URL (unset: the embedded one of voxregen serve's --data-dir).",
    )
    keys_commands = keys_cmd.add_subparsers(
        dest=argparse.SUPPRESS, required=True, parser_class=_Parser
    )
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".voxregen"),
        help="voxregen serve's data folder, when VOXREGEN_DATABASE_URL is unset",
    )
    create_cmd = keys_commands.add_parser(
        "create",
        parents=[data_dir],
        help="make a key and print it, once, as the last line of stdout",
    )
    create_cmd.add_argument("--user-id", type=_uuid, required=True)
    create_cmd.add_argument("--name", default="", help="what the key is for (shown by list)")
    create_cmd.set_defaults(handler="keys:create_command")
    list_cmd = keys_commands.add_parser(
        "list", parents=[data_dir], help="a user's keys, revoked ones included (never the keys)"
    )
    list_cmd.add_argument("--user-id", type=_uuid, required=True)
    list_cmd.set_defaults(handler="keys:list_command")
    revoke_cmd = keys_commands.add_parser(
        "revoke", parents=[data_dir], help="revoke a key: it authenticates nothing from now on"
    )
    revoke_cmd.add_argument("key_id", type=_uuid, metavar="KEY_ID")
    revoke_cmd.set_defaults(handler="keys:revoke_command")


def _add_remote_commands(
    commands: argparse._SubParsersAction,
    add_render_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    remote_cmd = commands.add_parser(
        "remote",
        help="render, and manage profiles and jobs, through a running service",
        description="Talk to a running voxregen service (voxregen serve, or a deployment): "
        "upload, render with progress, download. Progress bars on a terminal, plain lines "
        "otherwise.",
    )
    remote_commands = remote_cmd.add_subparsers(
        dest=argparse.SUPPRESS, required=True, parser_class=_Parser
    )
    service = argparse.ArgumentParser(add_help=False)
    service.add_argument("--url", help="the service's base URL (default: $VOXREGEN_URL)")
    service.add_argument(
        "--api-key",
        help="an API key, vxr_… (default: $VOXREGEN_API_KEY, which keeps it out of ps)",
    )
    service.add_argument(
        "--user-id",
        help="development mode only: the X-User-Id to send (default: $VOXREGEN_USER_ID)",
    )
    render_cmd = remote_commands.add_parser(
        "render",
        parents=[service],
        help="upload a stem, render it with a profile and download the result",
    )
    render_cmd.add_argument("stem", type=Path, metavar="STEM", help="WAV stem to upload")
    render_cmd.add_argument("--profile", type=_uuid, required=True, help="singer profile id")
    render_cmd.add_argument("-o", "--output", type=Path, help="WAV file to write")
    add_render_options(render_cmd)
    render_cmd.add_argument(
        "--no-wait", action="store_true", help="print the new job's id and return"
    )
    render_cmd.add_argument(
        "--json", action="store_true", help="print the finished job as JSON on stdout"
    )
    render_cmd.set_defaults(handler="remote:render_command")

    profiles_cmd = remote_commands.add_parser("profiles", help="singer profiles")
    profiles = profiles_cmd.add_subparsers(
        dest=argparse.SUPPRESS, required=True, parser_class=_Parser
    )
    create_cmd = profiles.add_parser(
        "create",
        parents=[service],
        help="make a profile from reference clips, wait until it is ready, print its id",
    )
    create_cmd.add_argument("name", metavar="NAME")
    create_cmd.add_argument(
        "--reference",
        type=Path,
        action="append",
        required=True,
        metavar="FILE",
        help="a WAV clip of the singer (repeat for more)",
    )
    create_cmd.set_defaults(handler="remote:profiles_create_command")
    profiles.add_parser(
        "list", parents=[service], help="your profiles, newest first: id, status, name"
    ).set_defaults(handler="remote:profiles_list_command")
    show_profile = profiles.add_parser("show", parents=[service], help="a profile, as JSON")
    show_profile.add_argument("profile_id", type=_uuid, metavar="PROFILE_ID")
    show_profile.set_defaults(handler="remote:profiles_show_command")

    jobs_cmd = remote_commands.add_parser("jobs", help="render jobs")
    jobs = jobs_cmd.add_subparsers(dest=argparse.SUPPRESS, required=True, parser_class=_Parser)
    list_cmd = jobs.add_parser(
        "list", parents=[service], help="your jobs, newest first: id, status, chunks, created"
    )
    list_cmd.add_argument("--status", choices=[status.value for status in JobStatus])
    list_cmd.set_defaults(handler="remote:jobs_list_command")
    jobs_by_id = {
        "show": "a job, as JSON",
        "cancel": "stop a queued or running job",
        "delete": "delete a job and its files (canceled first if it is going)",
        "download": "download a done job's WAV",
    }
    job_cmds = {}
    for name, help_text in jobs_by_id.items():
        job_cmds[name] = jobs.add_parser(name, parents=[service], help=help_text)
        job_cmds[name].add_argument("job_id", type=_uuid, metavar="JOB_ID")
        job_cmds[name].set_defaults(handler=f"remote:jobs_{name}_command")
    job_cmds["download"].add_argument(
        "-o", "--output", type=Path, required=True, help="WAV file to write"
    )


def _positive_int(value: str) -> int:
    number = int(value)  # argparse reports the ValueError as an invalid value
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return number


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names; its exit status (see the module docstring). What a
    command does not turn into :func:`fail` itself is reported here in one line: a voxregen
    error with its code, anything else as an internal error with its type."""
    return _run(_parser().parse_args(argv))


def _run(args: argparse.Namespace) -> int:
    module_name, function_name = args.handler.split(":")
    try:
        return_freed_buffers_to_the_os()
        one_blas_thread()  # before NumPy's first import, which the command's module makes
        command = getattr(importlib.import_module(f"voxregen.cli.{module_name}"), function_name)
        command(args)
    except VoxregenError as error:
        _say_error(f"{error} [{error.code}]")
        return EXIT_FAILED
    except Exception as error:
        described = ": ".join(part for part in (type(error).__name__, str(error)) if part)
        _say_error(f"internal error: {described} [{VoxregenError.code}]")
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("voxregen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def main() -> None:
    """The ``voxregen`` process: :func:`run` on ``sys.argv``, then exit with its status (at
    once, for a command that sets ``skip_teardown``)."""
    args = _parser().parse_args()
    status = _run(args)
    if getattr(args, "skip_teardown", False):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
