"""Test-wide settings: Hypothesis profiles (no deadline: DSP example timing varies on a loaded
2-core machine; CI derandomizes so a run is reproducible)."""

import os

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
