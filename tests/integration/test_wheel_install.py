"""The wheel, installed as a user installs it: built from the repository, installed (not
editable) into a new virtualenv of its own with the versions constraints.txt pins, then run from
outside the source tree: `voxregen migrate` on a new database, `voxregen render` of a short
stem, and `voxregen serve` answering /readyz and serving the OpenAPI document. The Alembic
scripts and the document come from the installed package (package data), not from the
repository."""

import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from tests.integration.processes import environment_without_voxregen_settings
from tests.integration.test_serve import _family, _free_port, _serving, _status, _stop
from tests.signals import synthetic_singing
from voxregen_adapters.db.migrate import current_revision, head_revision

REPO = Path(__file__).resolve().parents[2]
WHEEL_SOURCES = (
    "pyproject.toml",
    "README.md",
    "voxregen",
    "voxregen_core",
    "voxregen_adapters",
    "voxregen_http",
    "voxregen_worker",
    "voxregen_client",
)
"""What the wheel is built from, and all the Dockerfile's build stage copies (with
constraints.txt; test_compose checks it)."""
INSTALL_TIMEOUT_S = 300

pytestmark = pytest.mark.slow


def _run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout_s: float):
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment_without_voxregen_settings() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``bin`` folder of a new virtualenv (no system site-packages) holding the wheel and
    its dependencies. The wheel is built, as in the Dockerfile, from a copy of WHEEL_SOURCES
    with this environment's pinned setuptools (no isolated build fetching the newest); its
    dependencies come from the wheel's own metadata, at constraints.txt's pins as in the image
    (from the package index, as `make install` gets them; pip's cache makes it ~30 s)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a clean copy: no stale build/ of the repository's in the wheel
    source.mkdir()
    for name in WHEEL_SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(REPO / name, source / name)
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(root / "dist"), str(source)],
        cwd=root,
        timeout_s=INSTALL_TIMEOUT_S,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("voxregen-*.whl")
    venv.create(root / "venv", with_pip=True)
    bin_dir = root / "venv" / "bin"
    done = _run(
        [
            str(bin_dir / "pip"),
            "install",
            "--quiet",
            "--no-compile",
            "-c",
            str(REPO / "constraints.txt"),
        ]
        + [str(wheel)],
        cwd=root,
        timeout_s=INSTALL_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return bin_dir


def test_the_installed_packages_are_the_wheels_not_the_source_tree(installed, tmp_path):
    where = _run(
        [
            str(installed / "python"),
            "-c",
            "import voxregen_adapters; print(voxregen_adapters.__file__)",
        ],
        cwd=tmp_path,
        timeout_s=60,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.parent / "lib")


def test_migrate_from_the_wheel_upgrades_a_new_database_to_head(
    installed, fresh_database_url, tmp_path
):
    env = environment_without_voxregen_settings() | {"VOXREGEN_DATABASE_URL": fresh_database_url}
    done = _run([str(installed / "voxregen"), "migrate"], cwd=tmp_path, env=env, timeout_s=60)
    assert done.returncode == 0, done.stderr
    assert current_revision(fresh_database_url) == head_revision()
    assert f"database at revision {head_revision()} (the newest)" in done.stdout + done.stderr


def test_render_from_the_wheel_delivers_the_mastered_file(installed, tmp_path):
    stem, out = tmp_path / "vocal.wav", tmp_path / "out.wav"
    sf.write(stem, synthetic_singing(3.0, seed=3, fs=44_100).audio, 44_100, subtype="PCM_24")
    done = _run(
        [str(installed / "voxregen"), "render", str(stem), "-o", str(out)]
        + ["--cache-dir", str(tmp_path / "cache")],
        cwd=tmp_path,
        timeout_s=120,
    )
    assert done.returncode == 0, done.stderr
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        48_000,
        2,
        "PCM_16",
        144_000,
    )
    samples, _ = sf.read(out, dtype="int16")
    assert np.array_equal(samples[:, 0], samples[:, 1])  # dual mono
    assert np.abs(samples).max() > 0


def test_serve_from_the_wheel_is_ready_and_serves_the_packaged_document_and_web_app(
    installed, tmp_path
):
    data_dir, log, port = tmp_path / "data", tmp_path / "serve.log", _free_port()
    voxregen = str(installed / "voxregen")
    with _serving(data_dir, port, log, voxregen=voxregen, cwd=tmp_path) as serve:
        assert _status(f"http://127.0.0.1:{port}/readyz") == 200
        document = httpx.get(f"http://127.0.0.1:{port}/openapi.yaml", timeout=10)
        assert document.status_code == 200
        assert document.content == (REPO / "voxregen_http" / "openapi.yaml").read_bytes()
        static = REPO / "voxregen_http" / "static"
        for path in sorted(static.rglob("*.*")):  # the page and every file it loads
            name = path.relative_to(static).as_posix()
            url = f"http://127.0.0.1:{port}/" + ("" if name == "index.html" else f"static/{name}")
            served = httpx.get(url, timeout=10)
            assert (served.status_code, served.content) == (200, path.read_bytes()), name
        _stop(serve, _family(serve.pid, data_dir), signal.SIGTERM)
    assert "voxregen: stopped" in log.read_text()
