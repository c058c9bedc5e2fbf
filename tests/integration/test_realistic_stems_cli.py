"""The realistic corpus (tests/realistic_stems.py) through the real `voxregen render` command:
every stem exits 0 with its summary line and no traceback or warning, and its output is the
delivery the case promises on ffmpeg's ebur128 (``check_delivery``: 48 kHz 16-bit, L == R, the
input's length, -18.0 ±0.1 LUFS and at most -1 dBTP, or digital silence with no loudness
reading).

The renders are started together, as many at a time as there are cores (most of a short
render's time is the process's start), the longest first, and each test waits for its own."""

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.realistic_stems import CASES, Case, Outcome, StemCorpus, check_delivery, render_with_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def renders(
    realistic_stems: StemCorpus, tmp_path_factory
) -> Iterator[dict[str, Future[tuple[Path, subprocess.CompletedProcess]]]]:
    """Each case's output path and `voxregen render` process, by case name, as they finish."""
    folder = tmp_path_factory.mktemp("realistic-cli")

    def render(case: Case) -> tuple[Path, subprocess.CompletedProcess]:
        output = folder / f"{case.name}.wav"
        stem = realistic_stems.path(case)
        return output, render_with_cli(stem, output, cache_dir=folder / "cache" / case.name)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        longest_first = sorted(CASES, key=lambda case: -(case.duration_s or 0.0))
        yield {case.name: pool.submit(render, case) for case in longest_first}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_realistic_stem_is_delivered_by_the_cli(case: Case, renders, realistic_stems):
    output, done = renders[case.name].result()

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr, done.stderr
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"voxregen: wrote {output} "), summary
    assert ("silent (no LUFS reading)" in summary) == (case.outcome is not Outcome.MASTERED)
    metrics = json.loads(output.with_suffix(".json").read_text())
    check_delivery(case, realistic_stems.path(case), output.read_bytes(), metrics)
