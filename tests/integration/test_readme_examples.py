"""The README's curl examples run, as written, against ``voxregen serve``: the whole flow from
a new profile to the clone's download, so they cannot rot; and the script's failures are one
line on stderr and a non-zero exit, never a traceback: a job that fails (its code and
message), a ``BASE`` where nothing listens, and one that answers something other than JSON."""

import http.server
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from tests.integration.test_serve import _free_port, _serving
from tests.signals import synthetic_singing, wav_bytes, with_consonants

README = Path(__file__).parents[2] / "README.md"
SCRIPT_TIMEOUT_S = 120


def curl_example() -> str:
    """The one ``sh`` block of the README's *Use the API with curl* section."""
    section = README.read_text().split("\n## Use the API with curl\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    return block


def remote_example() -> tuple[str, str]:
    """The ``sh`` block of the README's *Use the service from the command line* section, and
    the ``text`` block of its output."""
    section = README.read_text().split("\n## Use the service from the command line\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    (block,) = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    (output,) = re.findall(r"^```text\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    return block, output


def _shape(lines: str) -> list[str]:
    """Output lines with ids (whole, or cut short with …) and numbers masked."""
    ids = re.sub(
        r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|-…)?", "ID", lines
    )
    return re.sub(r"-?\d+(?:\.\d+)?", "N", ids).splitlines()


def python_example() -> str:
    """The one ``python`` block of the README's *Use the API from Python* section."""
    section = README.read_text().split("\n## Use the API from Python\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"^```python\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    return block


def run_example(folder: Path, base: str, *, stem: bytes) -> subprocess.CompletedProcess:
    """The README block, run in ``folder`` against ``base`` with an 8 s reference and ``stem``.
    The reference is 24-bit WAVE_FORMAT_EXTENSIBLE, which Python's ``wave`` (the script's
    duration reader once) cannot open."""
    singing = synthetic_singing(8.0, seed=3, fs=44_100)
    reference = wav_bytes(singing.audio, fs=44_100, subtype="PCM_24", container="WAVEX")
    (folder / "reference.wav").write_bytes(reference)
    (folder / "stem.wav").write_bytes(stem)
    environment = {
        **os.environ,
        "BASE": base,
        "REFERENCE_WAV": str(folder / "reference.wav"),
        "STEM_WAV": str(folder / "stem.wav"),
    }
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", curl_example()],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )


def a_stem() -> bytes:
    """8 s of synthetic singing with consonants, 44.1 kHz 24-bit."""
    stem = with_consonants(synthetic_singing(8.0, seed=3, fs=44_100).audio, seed=3, fs=44_100)
    return wav_bytes(0.9 * stem / abs(stem).max(), fs=44_100)


def write_example_files(folder: Path) -> None:
    """The two files the README's Python and command-line blocks name: a reference of 24-bit
    WAVE_FORMAT_EXTENSIBLE, and the stem."""
    singing = synthetic_singing(8.0, seed=3, fs=44_100)
    reference = wav_bytes(singing.audio, fs=44_100, subtype="PCM_24", container="WAVEX")
    (folder / "ada-take-1.wav").write_bytes(reference)
    (folder / "lead-vocal.wav").write_bytes(a_stem())


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    """The base URL of one ``voxregen serve`` for this module's flows."""
    folder, port = tmp_path_factory.mktemp("serve"), _free_port()
    with _serving(folder / "data", port, folder / "serve.log"):  # which kills it all at the end
        yield f"http://127.0.0.1:{port}"


def test_the_readme_curl_flow_renders_and_clones_a_stem(served, tmp_path):
    done = run_example(tmp_path, served, stem=a_stem())

    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    # the clone hit the feature cache; the list's second page of one job was its last
    assert done.stdout.splitlines() == ["building", "True", "None"]
    polled = [line.split()[0] for line in done.stderr.splitlines()]
    assert polled[-1] == "done" and polled.count("done") == 2 and "ready" in polled, polled
    for name in ("regen.wav", "regen-warm.wav"):
        info = sf.info(tmp_path / name)
        assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2), name
        assert abs(info.duration - 8.0) < 1e-3, name


def test_a_job_that_fails_prints_its_error_code_and_message(served, tmp_path):
    done = run_example(tmp_path, served, stem=b"this is not a WAV file at all")

    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines() == ["building"]
    *polled, last = done.stderr.splitlines()
    assert polled[-1].startswith("failed ")  # the poll's own line: status and progress
    assert last.startswith("failed: not_a_wav: the file is not a WAV"), done.stderr
    assert not (tmp_path / "regen.wav").exists()


class NotJson(http.server.BaseHTTPRequestHandler):
    """Answers every request with an HTML page, as a web server on the wrong port would."""

    def do_POST(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>It works!</body></html>")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_json_base() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotJson)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("nothing_listening", "error: no answer from {base}: Failed to connect"),
        ("not_json", "error: {base} answered HTTP 200, not JSON: is BASE the voxregen API?"),
    ],
)
def test_a_wrong_base_is_one_line_and_a_non_zero_exit(request, tmp_path, base, says):
    if base == "not_json":
        base = request.getfixturevalue("not_json_base")
    else:  # a port free now, not when the tests were collected (serve may hold it since)
        base = f"http://127.0.0.1:{_free_port()}"

    done = run_example(tmp_path, base, stem=a_stem())

    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(says.format(base=base)), done.stderr


def test_the_readme_python_flow_renders_a_stem_with_the_client(served, tmp_path):
    """The README's Python block, as written, in a folder holding its two files, with the
    development-mode variables it names."""
    write_example_files(tmp_path)
    environment = {
        **os.environ,
        "VOXREGEN_URL": served,
        "VOXREGEN_USER_ID": str(uuid.uuid4()),
    }
    done = subprocess.run(
        [sys.executable, "-c", python_example()],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )

    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    *progress, summary = done.stdout.splitlines()
    size = (tmp_path / "lead-vocal.wav").stat().st_size
    assert progress[0].startswith("uploaded ") and f"uploaded {size}/{size} bytes" in progress
    assert progress[-1] == "done 1", progress
    lufs, dbtp = map(float, summary.split())
    assert abs(lufs + 18.0) < 0.5 and dbtp <= -1.0
    info = sf.info(tmp_path / "lead-vocal.regen.wav")
    assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2)
    assert abs(info.duration - 8.0) < 1e-3


def test_the_readme_command_line_flow_renders_a_stem_with_voxregen_remote(served, tmp_path):
    """The README's command-line block, as written, in a folder holding its two files and the
    repository's ``.venv`` (the block names ``.venv/bin/voxregen``)."""
    write_example_files(tmp_path)
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("VOXREGEN_")
    }
    written, said = remote_example()
    block = written.replace("http://127.0.0.1:8000", served)
    assert block != written  # the block names the URL make run serves
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )

    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert _shape(done.stderr) == _shape(said), done.stderr  # the README shows what it says
    *progress, summary = done.stderr.splitlines()
    chunks = [line for line in progress if line.endswith(" chunks")]
    assert chunks[-1].endswith(f"[{'#' * 30}] 1/1 chunks"), progress
    assert re.fullmatch(
        r"voxregen: wrote lead-vocal.regen.wav \(8.0 s, -18.0\d LUFS, -\d+.\d\d dBTP\) in "
        r"\d+.\d\d s",
        summary,
    ), summary
    info = sf.info(tmp_path / "lead-vocal.regen.wav")
    assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2)
    assert abs(info.duration - 8.0) < 1e-3
