"""``TerminalProgressBar``: progress on stderr for the CLI: a job's chunks, a file's bytes.

On a terminal it redraws one line; otherwise (a log file, CI) it prints plain lines: one per
chunk, and one per tenth of a transfer (so a long upload is a dozen lines, not one per block).
Use it as a context manager around the work: leaving it ends a line left part-drawn (the
render stopped before its last chunk), so that an error or an interruption is said on a line
of its own.
"""

import sys
from typing import Protocol, TextIO

_WIDTH = 30


class ChunkProgress(Protocol):
    """A job's progress, as the core and the client both have it."""

    @property
    def chunks_done(self) -> int: ...

    @property
    def chunks_total(self) -> int: ...


class TerminalProgressBar:
    def __init__(self, stream: TextIO = sys.stderr, *, label: str = "rendering") -> None:
        self._stream = stream
        self._label = label
        self._interactive = stream.isatty()
        self._line_open = False
        self._tenths_said = -1

    def report(self, progress: ChunkProgress) -> None:
        done, total = progress.chunks_done, progress.chunks_total
        self._draw(done, total, f"{done}/{total} chunks")

    def report_bytes(self, sent_bytes: int, total_bytes: int) -> None:
        """A transfer's progress (the client's ``on_upload_progress`` and
        ``on_download_progress`` callbacks)."""
        tenths = 10 * sent_bytes // max(total_bytes, 1)
        if not self._interactive and tenths == self._tenths_said:
            return
        self._tenths_said = tenths
        self._draw(sent_bytes, total_bytes, _amount(sent_bytes, total_bytes))

    def _draw(self, done: int, total: int, amount: str) -> None:
        filled = _WIDTH * done // max(total, 1)
        bar = "#" * filled + "." * (_WIDTH - filled)
        line = f"{self._label} [{bar}] {amount}"
        if self._interactive:
            self._line_open = done != total
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


def _amount(sent_bytes: int, total_bytes: int) -> str:
    """``12.3/40.0 MB``, in a unit that suits the total."""
    if total_bytes < 1_000:
        return f"{sent_bytes}/{total_bytes} B"
    unit, scale = ("MB", 1e6) if total_bytes >= 100_000 else ("kB", 1e3)
    return f"{sent_bytes / scale:.1f}/{total_bytes / scale:.1f} {unit}"
