"""What a render's start loads: no SciPy until features are computed (docs/decisions.md)."""

import json
import subprocess
import sys

RENDER_MODULES = (
    "voxregen.cli.render",
    "voxregen.composition.local_render",
    "voxregen.composition.service_parts",
    "voxregen_core.pipeline",
)


def loaded_scipy_modules(code: str) -> list[str]:
    """The ``scipy`` modules loaded after ``code`` runs in a fresh interpreter."""
    names = "sorted(m for m in sys.modules if m.split('.')[0] == 'scipy')"
    script = f"import json, sys\n{code}\nprint(json.dumps({names}))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_the_render_modules_load_no_scipy():
    """scipy.signal never (the filters are voxregen_core.iir), scipy.fft only on demand: a render
    whose features are cached starts 0.2-0.25 s sooner, and one that is not loads it while the
    stem resamples."""
    assert loaded_scipy_modules(f"import {', '.join(RENDER_MODULES)}") == []


def test_the_render_dsp_loads_scipy_fft_and_not_scipy_signal():
    """Features (YIN needs scipy.fft), the stub's EQ and mastering, run on a tone."""
    loaded = loaded_scipy_modules(
        "import numpy as np\n"
        "from voxregen_core.features import extract_features\n"
        "from voxregen_core.mastering import master\n"
        "from voxregen_core.params import RenderParams\n"
        "from voxregen_core.stub_generator import _equalize\n"
        "x = (0.1 * np.sin(0.05 * np.arange(96_000))).astype(np.float32)\n"
        "extract_features(x, sample_rate_hz=48_000)\n"
        "_equalize(x, RenderParams())\n"
        "master(x, sample_rate_hz=48_000, target_lufs=-18.0, ceiling_dbtp=-1.0, seed=1)"
    )
    assert "scipy.fft" in loaded
    assert not [name for name in loaded if name.startswith("scipy.signal")]
