"""The real ``voxregen`` command with a broken generator, for the tests of what it says when a
render fails through no fault of its input:

    python -m tests.integration.broken_generator_cli {nan|bug} render IN.wav -o OUT.wav …

runs :func:`voxregen.cli.main` with the generator that the CLI's composition root
(:func:`voxregen.composition.local_render.local_render_ports`) builds replaced: ``nan`` returns NaN
for every chunk (:class:`tests.fakes.NaNGenerator`), ``bug`` raises a plain Python exception
in the first chunk (:class:`tests.fakes.CrashingGenerator`). Everything else is the command
as a user runs it, in a process of its own, so the test sees its real stderr and exit status.
"""

import functools
import sys
from unittest import mock

from tests.fakes import CrashingGenerator, NaNGenerator
from voxregen.cli import main

BROKEN_GENERATORS = {"nan": NaNGenerator, "bug": functools.partial(CrashingGenerator, 0)}

if __name__ == "__main__":
    broken = BROKEN_GENERATORS[sys.argv.pop(1)]
    with mock.patch("voxregen.composition.local_render.StubGenerator", broken):
        main()  # the rest of sys.argv is the command's
