"""`voxregen remote …`: a running service, through the Python client (:mod:`voxregen_client`).

``render`` uploads a stem, waits with the job's chunk progress, downloads the delivery and
prints the summary line of ``voxregen render``; ``profiles`` and ``jobs`` list, show and manage
what the caller has. The service is ``--url`` (else ``VOXREGEN_URL``), the caller ``--api-key``
or, in development mode, ``--user-id`` (else ``VOXREGEN_API_KEY`` or ``VOXREGEN_USER_ID``).

Every failure is one line on stderr and an exit status (:mod:`voxregen.cli`): 2 for what the
caller can fix (arguments, files, credentials, a refusal of the API, with its code in
brackets), 3 for a job or a profile build that failed or was canceled, 4 for a service that
could not be reached or did not answer as the API does.
"""

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import attrs

from voxregen.cli import (
    EXIT_INTERRUPTED,
    EXIT_JOB_FAILED,
    EXIT_UNREACHABLE,
    exit_with,
    fail,
)
from voxregen.cli.files import check_input, check_output
from voxregen.cli.progress_bar import TerminalProgressBar
from voxregen.cli.render_options import chosen_params
from voxregen.cli.summary import summary_line
from voxregen_client import (
    Client,
    ConfigurationError,
    Job,
    Profile,
    ProfileBuildError,
    RateLimitedError,
    ServiceUnavailableError,
    VoxregenApiError,
    VoxregenClientError,
)

POLL_S = 0.5
"""How often a waiting command asks for the job's or the profile's state."""


def render_command(args: argparse.Namespace) -> None:
    """`voxregen remote render STEM --profile ID -o OUT`."""
    params = chosen_params(args)
    check_input(args.stem)
    if args.no_wait:
        if args.output is not None:
            fail(
                "-o cannot be used with --no-wait: download the render later with "
                "voxregen remote jobs download JOB_ID -o OUT"
            )
    elif args.output is None:
        fail("remote render: the following arguments are required: -o/--output")
    else:
        check_output("-o", args.output, not_over=args.stem)

    with _service(args) as client:
        _check_usable(client.profiles.get(str(args.profile)))  # said before the upload
        with _reading(args.stem), _upload_bar(args.stem) as bar:
            job = client.jobs.create(
                args.stem, str(args.profile), params=params, on_upload_progress=bar.report_bytes
            )
        if args.no_wait:
            print(_as_json(job) if args.json else job.id)
            return
        job = _wait(client, job)
        if args.json:
            print(_as_json(job))
        _refuse_unfinished(job)
        _download(client, job, args.output)


def profiles_create_command(args: argparse.Namespace) -> None:
    """`voxregen remote profiles create NAME --reference FILE …`: the profile's id, once
    ready, as the last line of stdout."""
    for reference in args.reference:
        check_input(reference)
    with _service(args) as client:
        profile = client.profiles.create(args.name)
        _say(f"profile {profile.id} created")  # said at once: a later failure leaves it
        files = {}
        for reference in args.reference:
            with _reading(reference), _upload_bar(reference) as bar:
                ref_id = client.profiles.add_reference(
                    profile.id, reference, on_upload_progress=bar.report_bytes
                )
            files[ref_id] = reference
        _say(f"profile {profile.id} building from {len(files)} reference(s)")
        try:
            built = _built(client, profile.id, set(files))
        except ProfileBuildError as error:
            problem = error.stats.get("error") or {}
            said = str(problem.get("message", error.stats))
            for ref_id, reference in files.items():  # the clips by the names the user gave
                said = said.replace(ref_id, reference.name)
            exit_with(
                EXIT_JOB_FAILED,
                f"profile {profile.id} failed to build: {said} "
                f"[{problem.get('code', 'profile_error')}]",
            )
        except KeyboardInterrupt:
            _interrupted(f"profile {profile.id} goes on building: voxregen remote profiles show")
        for reference in built.references:
            if not reference.accepted:
                problems = "; ".join(reference.quality_metrics.get("problems", [])) or "rejected"
                _say(f"reference {files.get(reference.id, reference.id)} was rejected: {problems}")
        print(profile.id)


def profiles_list_command(args: argparse.Namespace) -> None:
    """`voxregen remote profiles list`: one line per profile, newest first."""
    with _service(args) as client:
        for profile in client.profiles.list():
            print(f"{profile.id}\t{profile.status}\t{profile.name}")


def profiles_show_command(args: argparse.Namespace) -> None:
    with _service(args) as client:
        print(_as_json(client.profiles.get(str(args.profile_id))))


def jobs_list_command(args: argparse.Namespace) -> None:
    """`voxregen remote jobs list [--status S]`: one line per job, newest first."""
    with _service(args) as client:
        for job in client.jobs.list(status=args.status):
            chunks = f"{job.progress.chunks_done}/{job.progress.chunks_total}"
            print(f"{job.id}\t{job.status}\t{chunks}\t{job.created_at.isoformat()}")


def jobs_show_command(args: argparse.Namespace) -> None:
    with _service(args) as client:
        print(_as_json(client.jobs.get(str(args.job_id))))


def jobs_cancel_command(args: argparse.Namespace) -> None:
    with _service(args) as client:
        job = client.jobs.cancel(str(args.job_id))
        _say(f"job {job.id} {job.status}")


def jobs_delete_command(args: argparse.Namespace) -> None:
    with _service(args) as client:
        client.jobs.delete(str(args.job_id))
        _say(f"job {args.job_id} deleted")


def jobs_download_command(args: argparse.Namespace) -> None:
    """`voxregen remote jobs download JOB_ID -o OUT`: a done job's WAV, and its summary line."""
    check_output("-o", args.output)
    with _service(args) as client:
        job = client.jobs.get(str(args.job_id))
        _refuse_unfinished(job)
        _download(client, job, args.output)


@contextmanager
def _service(args: argparse.Namespace) -> Iterator[Client]:
    """The client of the service ``args`` (or the environment) name; what it raises becomes
    the command's one line and exit status."""
    try:
        with _client(args) as client:
            yield client
    except BrokenPipeError:  # stdout's reader left (`jobs list | head -1`): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except ConfigurationError as error:
        fail(str(error))
    except (RateLimitedError, ServiceUnavailableError) as error:  # still so after the retries
        exit_with(EXIT_UNREACHABLE, f"{error.message}; try again later [{error.code}]")
    except VoxregenApiError as error:
        if error.status >= 500:
            exit_with(EXIT_UNREACHABLE, f"the service failed: {error.message} [{error.code}]")
        fail(f"{_said(error)} [{error.code}]")
    except VoxregenClientError as error:  # unreachable, or not answering as the API does
        exit_with(EXIT_UNREACHABLE, str(error))


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A file being uploaded that cannot be read is said in one line."""
    try:
        yield
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        fail(f"cannot read {path}: {error.strerror or error}")


def _client(args: argparse.Namespace) -> Client:
    """``--url``, else ``VOXREGEN_URL``; the credentials given as options, else the
    environment's (never one of each)."""
    environ = dict(os.environ)
    if args.url:
        environ["VOXREGEN_URL"] = args.url
    if not environ.get("VOXREGEN_URL"):
        fail("no service URL: pass --url or set VOXREGEN_URL")
    if args.api_key is not None or args.user_id is not None:
        environ["VOXREGEN_API_KEY"] = args.api_key or ""
        environ["VOXREGEN_USER_ID"] = args.user_id or ""
    return Client.from_env(environ)


def _built(client: Client, profile_id: str, ref_ids: set[str]) -> Profile:
    """The profile once ready with every one of ``ref_ids`` analysed by its build. This service
    never says ready before (a build overtaken by a commit records nothing), but a server from
    before that fix could end a first clip's build ready with the second's still to come."""
    while True:
        built = client.profiles.wait_ready(profile_id, timeout_s=math.inf, poll_s=POLL_S)
        analysed = {reference.id for reference in built.references if reference.quality_metrics}
        if ref_ids <= analysed:
            return built
        time.sleep(POLL_S)


def _said(error: VoxregenApiError) -> str:
    """The refusal's message, or for an ``invalid_body`` each problem: ``$.name: …; …``."""
    if error.problems:
        return "; ".join(f"{problem['path']}: {problem['message']}" for problem in error.problems)
    return error.message


def _check_usable(profile: Profile) -> None:
    """Refuse, before the upload, a profile the API would refuse a render with: one with no
    embedding yet (its first build going) or whose build failed."""
    if profile.status == "ready" or profile.embedding_version is not None:
        return
    fail(
        f"profile {profile.id} is {profile.status} with no embedding yet: see voxregen remote "
        f"profiles show {profile.id} [not_ready]"
    )


def _wait(client: Client, job: Job) -> Job:
    """The job once finished, its chunk progress drawn meanwhile; Ctrl-C leaves it running.
    ``job`` is as created, so its ``queued`` is said once, whether or not a poll still finds
    the job waiting (a short one may be running by the first)."""
    bar = TerminalProgressBar(sys.stderr, label=f"voxregen: job {_short(job.id)}")
    drawn = []
    if job.status == "queued":
        _say(f"job {job.id} queued")

    def show(seen: Job) -> None:
        if seen.status != "queued" and seen.progress.chunks_total and drawn[-1:] != [seen.progress]:
            drawn.append(seen.progress)
            bar.report(seen.progress)

    try:
        with bar:
            return client.jobs.wait(job.id, on_progress=show, timeout_s=math.inf, poll_s=POLL_S)
    except KeyboardInterrupt:
        _interrupted(f"job {job.id} goes on: voxregen remote jobs show (or jobs cancel) {job.id}")


def _interrupted(message: str) -> NoReturn:
    print(f"voxregen: interrupted; {message}", file=sys.stderr)
    sys.exit(EXIT_INTERRUPTED)


def _refuse_unfinished(job: Job) -> None:
    """Exit 3 for a job that failed or was canceled, 2 for one still going."""
    if job.status == "failed":
        said = f"{job.error.message} [{job.error.code}]" if job.error else "[internal_error]"
        exit_with(EXIT_JOB_FAILED, f"job {job.id} failed: {said}")
    if job.status == "canceled":
        exit_with(EXIT_JOB_FAILED, f"job {job.id} was canceled")
    if job.status != "done":
        fail(f"job {job.id} is {job.status}, not done yet [not_ready]")


def _download(client: Client, job: Job, path: Path) -> None:
    """The job's WAV to ``path`` (which the user named with ``-o``), then the summary line."""
    try:
        with TerminalProgressBar(sys.stderr, label=f"voxregen: downloading {path.name}") as bar:
            client.jobs.download(
                job.id, path, overwrite=True, on_download_progress=bar.report_bytes
            )
    except KeyboardInterrupt:
        _interrupted(f"nothing written; voxregen remote jobs download {job.id} -o {path}")
    except OSError as error:
        if isinstance(error, BrokenPipeError):
            raise
        fail(f"cannot write -o {path}: {error.strerror or error}")
    print(summary_line(path, job.metrics), file=sys.stderr)


def _short(job_id: str) -> str:
    """A job id's first 8 characters: a progress line fits an 80-column terminal."""
    return job_id[:8]


def _upload_bar(path: Path) -> TerminalProgressBar:
    return TerminalProgressBar(sys.stderr, label=f"voxregen: uploading {path.name}")


def _say(message: str) -> None:
    print(f"voxregen: {message}", file=sys.stderr)


def _as_json(model: Any) -> str:
    """A client model (a job, a profile) as the API wrote it: JSON, times in ISO 8601."""
    return json.dumps(attrs.asdict(model), default=_iso, indent=2)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
