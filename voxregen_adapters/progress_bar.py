"""``TerminalProgressBar``: a job's chunk progress on a terminal (stderr), for the CLI.

On a terminal it redraws one line; otherwise (a log file, CI) it prints one line per chunk.
"""

import sys
from typing import TextIO

from voxregen_core.jobs import Progress

_WIDTH = 30


class TerminalProgressBar:
    def __init__(self, stream: TextIO = sys.stderr, *, label: str = "rendering") -> None:
        self._stream = stream
        self._label = label
        self._interactive = stream.isatty()

    def report(self, progress: Progress) -> None:
        total = max(progress.chunks_total, 1)
        filled = _WIDTH * progress.chunks_done // total
        bar = "#" * filled + "." * (_WIDTH - filled)
        line = f"{self._label} [{bar}] {progress.chunks_done}/{progress.chunks_total} chunks"
        if self._interactive:
            end = "\n" if progress.chunks_done == progress.chunks_total else ""
            self._stream.write(f"\r{line}{end}")
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
