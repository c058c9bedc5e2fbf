"""The README's curl examples run, as written, against ``voxregen serve``: the whole flow from
a new profile to the clone's download, so they cannot rot."""

import os
import re
import subprocess
from pathlib import Path

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


def test_the_readme_curl_flow_renders_and_clones_a_stem(tmp_path):
    singing = synthetic_singing(8.0, seed=3, fs=44_100)
    (tmp_path / "reference.wav").write_bytes(wav_bytes(singing.audio, fs=44_100))
    stem = with_consonants(singing.audio, seed=3, fs=44_100)
    (tmp_path / "stem.wav").write_bytes(wav_bytes(0.9 * stem / abs(stem).max(), fs=44_100))
    data_dir, port = tmp_path / "data", _free_port()
    environment = {
        **os.environ,
        "BASE": f"http://127.0.0.1:{port}",
        "REFERENCE_WAV": str(tmp_path / "reference.wav"),
        "STEM_WAV": str(tmp_path / "stem.wav"),
    }

    with _serving(data_dir, port, tmp_path / "serve.log"):  # which kills it all at the end
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", curl_example()],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
        )

    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert done.stdout.splitlines() == ["building", "True"]  # the clone hit the feature cache
    polled = [line.split()[0] for line in done.stderr.splitlines()]
    assert polled[-1] == "done" and polled.count("done") == 2 and "ready" in polled, polled
    for name in ("regen.wav", "regen-warm.wav"):
        info = sf.info(tmp_path / name)
        assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2), name
        assert abs(info.duration - 8.0) < 1e-3, name
