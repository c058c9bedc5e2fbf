"""``voxregen remote``, run as a producer runs it (a process, its stdout and stderr piped, so
not a terminal: plain progress lines) against the real service (tests/e2e/stack.py: the API in
api_keys mode, a worker, PostgreSQL, Redis, moto's S3), with real speech as the stems and
references (tests/realistic_stems.py: espeak-ng's digital silence between sentences kept).

A profile in one command, a render in one more (upload, chunk progress, download, the summary
line of ``voxregen render``), the job commands, and every failure as one line on stderr with
its documented exit status: 2 (arguments, files, credentials, the API's refusals), 3 (a job
that failed or was canceled), 4 (no service)."""

import json
import os
import re
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.stack import VOXREGEN, Stack, User, free_port, singing_wav, stem_s_for
from tests.realistic_stems import BY_NAME, StemCorpus, check_delivery
from voxregen.cli import EXIT_INTERRUPTED, EXIT_JOB_FAILED, EXIT_UNREACHABLE, EXIT_USAGE

pytestmark = pytest.mark.slow

STEM = BY_NAME["speech_88k2_stereo_24"]
REFERENCES = (BY_NAME["espeak_22k_mono_16"], BY_NAME["speech_48k_mono_24"])
SUMMARY = re.compile(
    r"^voxregen: wrote (?P<path>\S+) \((?P<duration_s>[\d.]+) s, (?P<lufs>-[\d.]+) LUFS, "
    r"(?P<dbtp>-[\d.]+) dBTP\) in [\d.]+ s(, features from cache)?$"
)
CLI_TIMEOUT_S = 120


def remote(
    user: User | None, *args: str | Path, base_url: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """``voxregen remote ARGS`` as ``user`` (their API key in ``VOXREGEN_API_KEY``) against
    ``base_url`` (``VOXREGEN_URL``); no other ``VOXREGEN_*`` reaches it."""
    environment = {name: value for name, value in os.environ.items() if "VOXREGEN" not in name}
    if base_url is not None:
        environment["VOXREGEN_URL"] = base_url
    if user is not None:
        environment["VOXREGEN_API_KEY"] = user.api_key
    return subprocess.run(
        [VOXREGEN, "remote", *map(str, args)],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The last line of stderr, checked to be the error line (no traceback anywhere)."""
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("voxregen: error: "), done.stderr
    return last.removeprefix("voxregen: error: ")


@pytest.fixture
def running(api_stack: Stack) -> Stack:
    """The stack with a worker whose stub takes 0.3 s a chunk: progress is seen, a cancel lands."""
    api_stack.start_worker(env={"VOXREGEN_STUB_SECONDS_PER_CHUNK": "0.3"})
    return api_stack


def test_a_profile_and_a_render_are_one_command_each(
    running: Stack, realistic_stems: StemCorpus, tmp_path
):
    ada = running.user()
    references = [realistic_stems.path(case) for case in REFERENCES]
    stem, out = realistic_stems.path(STEM), tmp_path / "verse.regen.wav"

    made = remote(
        ada,
        "profiles", "create", "Ada", "--reference", references[0], "--reference", references[1],
        base_url=running.base_url,
    )  # fmt: skip

    assert made.returncode == 0, made.stderr
    profile_id = made.stdout.splitlines()[-1]
    assert ada.client.profiles.get(profile_id).status == "ready"
    for reference in references:
        assert f"voxregen: uploading {reference.name} [{'#' * 30}]" in made.stderr
    assert "\r" not in made.stderr  # not a terminal: plain lines

    rendered = remote(
        ada, "render", stem, "--profile", profile_id, "-o", out, "--style", "warm",
        base_url=running.base_url,
    )  # fmt: skip

    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout == ""
    lines = rendered.stderr.splitlines()
    assert "\r" not in rendered.stderr
    uploads = [line for line in lines if line.startswith(f"voxregen: uploading {stem.name} ")]
    size_mb = stem.stat().st_size / 1e6
    assert uploads[-1].endswith(f"{size_mb:.1f}/{size_mb:.1f} MB") and len(uploads) <= 11
    chunk_lines = [line for line in lines if line.endswith(" chunks")]
    assert chunk_lines and chunk_lines[-1].endswith(f"[{'#' * 30}] 1/1 chunks"), lines
    summary = SUMMARY.match(lines[-1])
    assert summary, lines
    (job,) = ada.client.jobs.list()
    assert job.status == "done" and job.params["style"] == "warm"
    reading = check_delivery(STEM, stem, out.read_bytes(), job.metrics)
    assert float(summary["lufs"]) == pytest.approx(job.metrics["loudness_lufs"], abs=0.005)
    assert float(summary["dbtp"]) == pytest.approx(job.metrics["true_peak_db"], abs=0.005)
    assert abs(float(summary["lufs"]) - reading.integrated_lufs) <= 0.1

    # the lists and the detail views say the same
    listed = remote(ada, "jobs", "list", base_url=running.base_url)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [f"{job.id}\tdone\t1/1\t{job.created_at.isoformat()}"]
    profiles = remote(ada, "profiles", "list", base_url=running.base_url)
    assert profiles.stdout.splitlines() == [f"{profile_id}\tready\tAda"], profiles.stderr
    shown = remote(ada, "profiles", "show", profile_id, base_url=running.base_url)
    assert len(json.loads(shown.stdout)["references"]) == 2
    shown = remote(ada, "jobs", "show", job.id, base_url=running.base_url)
    assert json.loads(shown.stdout)["metrics"] == job.metrics
    again_out = tmp_path / "again.wav"
    fetched = remote(ada, "jobs", "download", job.id, "-o", again_out, base_url=running.base_url)
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stderr.splitlines()[-1] == summary.group(0).replace(str(out), str(again_out))
    assert again_out.read_bytes() == out.read_bytes()
    assert again_out.stat().st_mode & 0o777 == 0o666 & ~_umask()  # as any program makes a file

    # --json: the finished job on stdout, the output named by -o replaced as asked
    again = remote(
        ada, "render", stem, "--profile", profile_id, "-o", out, "--json",
        base_url=running.base_url,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    finished = json.loads(again.stdout)
    assert finished["status"] == "done" and finished["metrics"]["feature_cache_hit"] is True
    assert SUMMARY.match(again.stderr.splitlines()[-1]).group("path") == str(out)


def test_no_wait_returns_the_job_id_and_the_job_commands_manage_it(running: Stack, tmp_path):
    bob = running.user()
    profile_id = bob.ready_profile()
    stem = bob.file(singing_wav(stem_s_for(4)))  # four chunks of 0.3 s: time to cancel

    queued = remote(bob, "render", stem, "--profile", profile_id, "--no-wait",
                    base_url=running.base_url)  # fmt: skip

    assert queued.returncode == 0, queued.stderr
    (job_id,) = queued.stdout.splitlines()
    assert bob.client.jobs.get(job_id).status in ("queued", "running")
    as_json = remote(bob, "render", stem, "--profile", profile_id, "--no-wait", "--json",
                     base_url=running.base_url)  # fmt: skip
    assert json.loads(as_json.stdout)["status"] == "queued", as_json.stderr

    canceled = remote(bob, "jobs", "cancel", job_id, base_url=running.base_url)
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.stderr == f"voxregen: job {job_id} canceled\n"

    download = remote(bob, "jobs", "download", job_id, "-o", tmp_path / "x.wav",
                      base_url=running.base_url)  # fmt: skip
    assert download.returncode == EXIT_JOB_FAILED
    assert one_error_line(download) == f"job {job_id} was canceled"
    assert not (tmp_path / "x.wav").exists()

    deleted = remote(bob, "jobs", "delete", job_id, base_url=running.base_url)
    assert (deleted.returncode, deleted.stderr) == (0, f"voxregen: job {job_id} deleted\n")
    gone = remote(bob, "jobs", "show", job_id, base_url=running.base_url)
    assert gone.returncode == EXIT_USAGE
    assert one_error_line(gone).endswith("[not_found]")


def test_ctrl_c_while_waiting_leaves_the_job_going_and_says_how_to_find_it(
    running: Stack, tmp_path
):
    ada = running.user()
    profile_id = ada.ready_profile()
    stem = ada.file(singing_wav(stem_s_for(4)))
    environment = {name: value for name, value in os.environ.items() if "VOXREGEN" not in name}
    environment |= {"VOXREGEN_URL": running.base_url, "VOXREGEN_API_KEY": ada.api_key}
    command = [
        VOXREGEN,
        "remote",
        "render",
        stem,
        "--profile",
        profile_id,
        "-o",
        tmp_path / "o.wav",
    ]
    seen = []
    with subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True) as waiting:
        for line in waiting.stderr:
            seen.append(line)
            if line.rstrip().endswith(" chunks"):  # rendering: the wait is under way
                waiting.send_signal(signal.SIGINT)
                break
        seen.extend(waiting.stderr)
    assert waiting.wait(timeout=CLI_TIMEOUT_S) == EXIT_INTERRUPTED

    (job,) = ada.client.jobs.list()
    assert seen[-1] == (
        f"voxregen: interrupted; job {job.id} goes on: "
        f"voxregen remote jobs show (or jobs cancel) {job.id}\n"
    ), seen
    assert "Traceback" not in "".join(seen)
    assert ada.client.jobs.wait(job.id, poll_s=0.1).status == "done"
    assert not (tmp_path / "o.wav").exists()


def test_a_profile_says_which_clips_it_rejected_and_one_that_cannot_build_is_exit_3(
    running: Stack, realistic_stems: StemCorpus
):
    ada = running.user()
    good, notes = realistic_stems.path(REFERENCES[1]), ada.file(b"not audio", name="notes.wav")

    some = remote(ada, "profiles", "create", "Some", "--reference", good, "--reference", notes,
                  base_url=running.base_url)  # fmt: skip
    none = remote(ada, "profiles", "create", "None", "--reference", notes,
                  base_url=running.base_url)  # fmt: skip

    assert some.returncode == 0, some.stderr
    assert f"voxregen: reference {notes} was rejected: " in some.stderr, some.stderr
    assert ada.client.profiles.get(some.stdout.splitlines()[-1]).status == "ready"
    assert none.returncode == EXIT_JOB_FAILED, none.stderr
    (failed,) = [profile for profile in ada.client.profiles.list() if profile.name == "None"]
    error = failed.stats["error"]
    (ref_id,) = [reference.id for reference in failed.references]
    assert ref_id in error["message"]
    assert one_error_line(none) == (
        f"profile {failed.id} failed to build: "
        f"{error['message'].replace(ref_id, notes.name)} [{error['code']}]"
    )
    assert none.stdout == ""


def test_a_failed_job_is_exit_3_with_its_code_and_message(running: Stack, tmp_path):
    ada = running.user()
    profile_id = ada.ready_profile()
    notes = ada.file(b"these are my lyrics, not a WAV file", name="notes.wav")

    done = remote(ada, "render", notes, "--profile", profile_id, "-o", tmp_path / "out.wav",
                  base_url=running.base_url)  # fmt: skip

    assert done.returncode == EXIT_JOB_FAILED
    (job,) = ada.client.jobs.list()
    assert one_error_line(done) == (f"job {job.id} failed: {job.error.message} [not_a_wav]"), (
        done.stderr
    )
    assert not (tmp_path / "out.wav").exists()


def test_refusals_are_exit_2_in_one_line_before_anything_is_uploaded(
    running: Stack, realistic_stems: StemCorpus, tmp_path
):
    ada, bob = running.user(), running.user()
    profile_id = ada.ready_profile()
    stem = realistic_stems.path(STEM)
    base = running.base_url
    render = ("render", stem, "--profile", profile_id)
    cases = {
        "another user's profile": (
            remote(bob, *render, "-o", tmp_path / "o.wav", base_url=base),
            f"no singer profile {profile_id} [not_found]",
        ),
        "a revoked or made-up key": (
            remote(None, "jobs", "list", "--api-key", "vxr_" + "0" * 40, "--url", base),
            "[invalid_api_key]",
        ),
        "an output folder that does not exist": (
            remote(ada, *render, "-o", tmp_path / "nowhere" / "o.wav", base_url=base),
            f"cannot write -o {tmp_path / 'nowhere' / 'o.wav'}: folder "
            f"{tmp_path / 'nowhere'} does not exist",
        ),
        "an output that is the stem": (
            remote(ada, *render, "-o", stem, base_url=base),
            f"cannot write -o {stem}: it is the input stem; name another file",
        ),
        "an intensity out of range": (
            remote(ada, *render, "-o", tmp_path / "o.wav", "--intensity", "1.5", base_url=base),
            "--intensity must be from 0.0 to 1.0, got 1.5 [invalid_params]",
        ),
        "a profile not built yet": (
            remote(
                ada,
                "render",
                stem,
                "--profile",
                ada.client.profiles.create("New").id,
                "-o",
                tmp_path / "o.wav",
                base_url=base,
            ),
            "[not_ready]",
        ),
        "a key that no header can carry": (
            remote(None, "jobs", "list", "--api-key", "vxr_\u00e9", "--url", base),
            "the API key must be the printable characters voxregen keys create printed "
            "(vxr_…), without spaces",
        ),
        "no service URL": (
            remote(ada, "jobs", "list"),
            "no service URL: pass --url or set VOXREGEN_URL",
        ),
        "no -o without --no-wait": (
            remote(ada, *render, base_url=base),
            "remote render: the following arguments are required: -o/--output",
        ),
    }
    for name, (done, says) in cases.items():
        assert done.returncode == EXIT_USAGE, (name, done.stderr)
        line = one_error_line(done)
        assert line == says or (says.startswith("[") and line.endswith(says)), (name, line)
        assert "uploading" not in done.stderr, (name, done.stderr)
    assert list(ada.client.jobs.list()) == [] and list(bob.client.jobs.list()) == []
    assert not (tmp_path / "o.wav").exists()


def test_a_service_that_is_not_there_is_exit_4_in_one_line(tmp_path):
    base = f"http://127.0.0.1:{free_port()}"

    done = remote(None, "jobs", "list", "--url", base, "--user-id", str(uuid.uuid4()))

    assert done.returncode == EXIT_UNREACHABLE
    assert re.fullmatch(
        rf"GET {re.escape(base)}/v1/render-jobs failed 5 time\(s\): ConnectError\(.*\)",
        one_error_line(done),
    ), done.stderr
