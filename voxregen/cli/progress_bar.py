"""``TerminalProgressBar``: a job's chunk progress on a terminal (stderr), for the CLI.

On a terminal it redraws one line; otherwise (a log file, CI) it prints one line per chunk.
Use it as a context manager around the render: leaving it ends a line left part-drawn (the
render stopped before its last chunk), so that an error or an interruption is said on a line
of its own.
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
        self._line_open = False

    def report(self, progress: Progress) -> None:
        total = max(progress.chunks_total, 1)
        filled = _WIDTH * progress.chunks_done // total
        bar = "#" * filled + "." * (_WIDTH - filled)
        line = f"{self._label} [{bar}] {progress.chunks_done}/{progress.chunks_total} chunks"
        if self._interactive:
            self._line_open = progress.chunks_done != progress.chunks_total
            self._stream.write(f"\r{line}" if self._line_open else f"\r{line}\n")
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def __enter__(self) -> "TerminalProgressBar":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._line_open:
            self._stream.write("\n")
            self._stream.flush()
            self._line_open = False
