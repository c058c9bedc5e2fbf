"""The real `voxregen render` command, run as a user runs it."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.meters import ffmpeg_ebur128
from tests.signals import synthetic_singing

VOXREGEN = str(Path(sys.executable).with_name("voxregen"))
REPO = Path(__file__).resolve().parents[2]
BROKEN_GENERATOR_VOXREGEN = (sys.executable, "-m", "tests.integration.broken_generator_cli")
"""``voxregen`` with a broken generator (tests/integration/broken_generator_cli.py), then
``nan`` or ``bug``."""


@pytest.fixture(scope="module")
def stem(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("in") / "vocal.wav"
    mono = synthetic_singing(20.0, seed=7, fs=44_100).audio
    sf.write(path, np.stack([mono, 0.7 * mono], axis=1), 44_100, subtype="PCM_24")
    return path


def _run(
    *args: str, cache_dir: Path, command: Sequence[str] = (VOXREGEN,), **options
) -> subprocess.CompletedProcess:
    """``command *args --cache-dir cache_dir`` in the repository, with ``subprocess.run``'s
    ``options`` (``umask=``, say)."""
    return subprocess.run(
        [*command, *args, "--cache-dir", str(cache_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        **options,
    )


def test_render_writes_the_delivered_file_metrics_and_progress(stem, tmp_path):
    out, metrics = tmp_path / "out.wav", tmp_path / "metrics.json"
    done = _run("render", str(stem), "-o", str(out), "--metrics", str(metrics), cache_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2/2 chunks" in done.stderr
    # the process ends without the interpreter's teardown: its last line is still said
    assert done.stderr.splitlines()[-1].startswith(f"voxregen: wrote {out} (20.0 s, -18.00 LUFS")
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        48_000,
        2,
        "PCM_16",
        960_000,
    )
    reading = ffmpeg_ebur128(out)
    assert reading.integrated_lufs == pytest.approx(-18.0, abs=0.1)
    assert reading.true_peak_dbtp <= -1.0
    stored = json.loads(metrics.read_text())
    assert stored["chunks_total"] == 2
    assert stored["feature_cache_hit"] is False
    assert stored["loudness_lufs"] == pytest.approx(-18.0, abs=0.05)
    assert not list((tmp_path / "objects").rglob("chunks/*.wav")), "temporary chunks were left"


def test_second_render_reuses_features_and_same_job_id_gives_same_bytes(stem, tmp_path):
    job_id = str(uuid.uuid4())
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    metrics = tmp_path / "m.json"
    assert (
        _run(
            "render", str(stem), "-o", str(first), "--job-id", job_id, cache_dir=tmp_path
        ).returncode
        == 0
    )
    done = _run(
        "render",
        str(stem),
        "-o",
        str(second),
        "--job-id",
        job_id,
        "--metrics",
        str(metrics),
        cache_dir=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(metrics.read_text())["feature_cache_hit"] is True
    assert "features from cache" in done.stderr
    assert first.read_bytes() == second.read_bytes()


def test_other_params_change_the_output(stem, tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    job_id = str(uuid.uuid4())
    assert (
        _run(
            "render",
            str(stem),
            "-o",
            str(a),
            "--job-id",
            job_id,
            "--style",
            "warm",
            cache_dir=tmp_path,
        ).returncode
        == 0
    )
    assert (
        _run(
            "render",
            str(stem),
            "-o",
            str(b),
            "--job-id",
            job_id,
            "--style",
            "bright",
            "--intensity",
            "1",
            cache_dir=tmp_path,
        ).returncode
        == 0
    )
    assert a.read_bytes() != b.read_bytes()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"ID3\x03\x00\x00\x00" + bytes(4000), (), "not a WAV"),
        (b"", (), "empty"),
        (None, (), "no such file"),
        (
            b"RIFF",
            ("--intensity", "1.5"),
            "--intensity must be from 0.0 to 1.0, got 1.5 [invalid_params]",
        ),
        (
            b"RIFF",
            ("--intensity", "nan"),
            "--intensity must be from 0.0 to 1.0, got nan [invalid_params]",
        ),
        (b"RIFF", ("--style", "grunge"), "render: argument --style: invalid choice: 'grunge'"),
        (b"RIFF", ("--job-id", "nope"), "render: argument --job-id: not a UUID: 'nope'"),
    ],
)
def test_bad_input_or_arguments_exit_2_with_one_line(tmp_path, content, args, message):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    done = _run("render", str(path), "-o", str(tmp_path / "o.wav"), *args, cache_dir=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert lines[0].startswith("voxregen: error: ") and lines[0].count("voxregen") == 1
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o.wav").exists()


def test_a_usage_error_has_one_prefix_and_names_the_command(tmp_path):
    done = _run("render", cache_dir=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "voxregen: error: render: the following arguments are required: input, -o/--output\n"
    )


@pytest.mark.parametrize(
    ("generator", "says"),
    [
        ("nan", "voxregen: error: generator returned NaN or Inf in chunk 0 [generator_error]"),
        (
            "bug",
            "voxregen: error: internal error: GeneratorCrash: crash at chunk 0 [internal_error]",
        ),
    ],
)
def test_a_render_its_generator_fails_exits_1_with_one_line_and_a_code(
    stem, tmp_path, generator, says
):
    out, job_id = tmp_path / "out.wav", uuid.uuid4()
    done = _run(
        generator,
        "render",
        str(stem),
        "-o",
        str(out),
        "--job-id",
        str(job_id),
        cache_dir=tmp_path,
        command=BROKEN_GENERATOR_VOXREGEN,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"voxregen: job {job_id} [{'.' * 30}] 0/2 chunks",  # the progress bar, then the error
        says,
    ]
    assert not out.exists()


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(stem, tmp_path):
    own = tmp_path / "in" / "vocal.wav"
    own.parent.mkdir()
    shutil.copyfile(stem, own)
    hard_link, symlink = tmp_path / "hard.wav", tmp_path / "soft.wav"
    os.link(own, hard_link)
    symlink.symlink_to(own)
    spellings = [str(own), os.path.relpath(own, REPO), str(hard_link), str(symlink)]
    for output in spellings:
        done = _run("render", str(own), "-o", output, cache_dir=tmp_path)
        assert (done.returncode, done.stderr) == (
            2,
            f"voxregen: error: cannot write -o {output}: it is the input stem; name another file\n",
        ), output
    assert own.read_bytes() == stem.read_bytes()
    assert symlink.is_symlink() and hard_link.stat().st_nlink == 2


@pytest.mark.parametrize(
    ("paths", "says"),
    [
        (
            ("{tmp}/a-folder", "-o", "{tmp}/out.wav"),
            "cannot read {tmp}/a-folder: it is a folder, not a WAV file",
        ),
        (
            ("{stem}", "-o", "{tmp}/a-folder"),
            "cannot write -o {tmp}/a-folder: it is a folder; name a file to write",
        ),
        (
            ("{stem}", "-o", "{tmp}/missing/out.wav"),
            "cannot write -o {tmp}/missing/out.wav: folder {tmp}/missing does not exist",
        ),
        (
            ("{stem}", "-o", "{tmp}/out.wav", "--metrics", "{tmp}/missing/m.json"),
            "cannot write --metrics {tmp}/missing/m.json: folder {tmp}/missing does not exist",
        ),
        (
            ("{stem}", "-o", "{tmp}/out.wav", "--metrics", "{tmp}/a-folder"),
            "cannot write --metrics {tmp}/a-folder: it is a folder; name a file to write",
        ),
        (
            ("{stem}", "-o", "{tmp}/out.wav", "--metrics", "{stem}"),
            "cannot write --metrics {stem}: it is the input stem; name another file",
        ),
        (
            ("{stem}", "-o", "{tmp}/out.wav", "--metrics", "{tmp}/out.wav"),
            "cannot write --metrics {tmp}/out.wav: it is the -o file; name another file",
        ),
    ],
)
def test_an_unusable_input_or_output_path_is_refused_before_any_work(stem, tmp_path, paths, says):
    own = tmp_path / "vocal.wav"
    shutil.copyfile(stem, own)
    (tmp_path / "a-folder").mkdir()
    before = sorted(tmp_path.rglob("*"))
    done = _run(
        "render", *(p.format(tmp=tmp_path, stem=own) for p in paths), cache_dir=tmp_path / "cache"
    )
    assert (done.returncode, done.stderr) == (
        2,
        f"voxregen: error: {says.format(tmp=tmp_path, stem=own)}\n",
    )
    assert sorted(tmp_path.rglob("*")) == before, "something was written"
    assert own.read_bytes() == stem.read_bytes()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_the_output_files_honour_the_umask(stem, tmp_path, umask, mode):
    out, metrics = tmp_path / "out.wav", tmp_path / "metrics.json"
    done = _run(
        "render",
        str(stem),
        "-o",
        str(out),
        "--metrics",
        str(metrics),
        cache_dir=tmp_path,
        umask=umask,
    )
    assert done.returncode == 0, done.stderr
    assert (out.stat().st_mode & 0o777, metrics.stat().st_mode & 0o777) == (mode, mode)
    cache = [tmp_path / "objects", tmp_path / "feature-cache-index"]  # the stem's features
    cached = [path for folder in cache for path in folder.rglob("*") if path.is_file()]
    assert cached and {path.stat().st_mode & 0o777 for path in cached} == {0o600}  # users' audio


@pytest.mark.parametrize("option", ["-o", "--metrics"])
def test_an_output_the_file_system_refuses_is_one_line_and_exit_2(stem, tmp_path, option):
    # /proc takes no new files, even from root (who passes every permission check up front)
    refused = "/proc/voxregen-out.wav"
    paths = {"-o": str(tmp_path / "out.wav"), "--metrics": str(tmp_path / "metrics.json")}
    paths[option] = refused
    args = ["-o", paths["-o"], "--metrics", paths["--metrics"]]
    done = _run("render", str(stem), *args, cache_dir=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"voxregen: error: cannot write {option} {refused}: No such file or directory"
    )
    assert "Traceback" not in done.stderr
