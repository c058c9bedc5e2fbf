"""The bad-input corpus (tests/bad_inputs.py) through the real `voxregen render` command: each
valid stem is delivered as the 48 kHz 16-bit stereo WAV, each invalid one exits 2 with one line
that names the problem and its code, and no output file."""

import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from tests.bad_inputs import REFUSED, VALID, BadInput

VOXREGEN = str(Path(sys.executable).with_name("voxregen"))


def render(case: BadInput, folder: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """``voxregen render`` of the case's bytes, saved as a ``.wav``; the process and its -o."""
    stem, output = folder / f"{case.name}.wav", folder / "out" / f"{case.name}.wav"
    stem.write_bytes(case.data)
    output.parent.mkdir()
    command = [VOXREGEN, "render", str(stem), "-o", str(output), "--cache-dir", str(folder)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL
    )
    return done, output


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.name)
def test_a_valid_stem_is_delivered(case, tmp_path):
    done, output = render(case, tmp_path)
    assert done.returncode == 0, done.stderr
    info = sf.info(output)
    assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2)
    assert info.duration == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize("case", REFUSED, ids=lambda case: case.name)
def test_an_invalid_stem_exits_2_with_one_line_naming_the_problem(case, tmp_path):
    done, output = render(case, tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("voxregen: error: ") and line.endswith(f" [{case.outcome}]")
    assert case.says in line
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert list(output.parent.iterdir()) == []
