"""``TerminalProgressBar``: what it writes on a terminal and elsewhere."""

import io

import pytest

from voxregen.cli.progress_bar import TerminalProgressBar
from voxregen_core.errors import GeneratorError
from voxregen_core.jobs import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_the_render_left_part_drawn_is_ended_so_the_error_has_its_line():
    terminal = _Terminal()
    with pytest.raises(GeneratorError), TerminalProgressBar(terminal, label="job") as bar:
        bar.report(Progress(chunks_done=0, chunks_total=2))
        raise GeneratorError("generator returned NaN or Inf in chunk 0")
    terminal.write("voxregen: error: …\n")
    assert terminal.getvalue() == f"\rjob [{'.' * 30}] 0/2 chunks\nvoxregen: error: …\n"


def test_on_a_terminal_a_finished_bar_is_redrawn_in_place_and_ends_its_line_once():
    terminal = _Terminal()
    with TerminalProgressBar(terminal, label="job") as bar:
        for done in range(3):
            bar.report(Progress(chunks_done=done, chunks_total=2))
    assert terminal.getvalue() == (
        f"\rjob [{'.' * 30}] 0/2 chunks"
        f"\rjob [{'#' * 15}{'.' * 15}] 1/2 chunks"
        f"\rjob [{'#' * 30}] 2/2 chunks\n"
    )


def test_elsewhere_each_report_is_a_line_and_nothing_is_added_on_leaving():
    log = io.StringIO()
    with pytest.raises(GeneratorError), TerminalProgressBar(log, label="job") as bar:
        bar.report(Progress(chunks_done=0, chunks_total=2))
        raise GeneratorError("generator returned NaN or Inf in chunk 0")
    assert log.getvalue() == f"job [{'.' * 30}] 0/2 chunks\n"


def test_on_a_terminal_a_transfer_is_redrawn_at_every_block_in_megabytes():
    terminal = _Terminal()
    with TerminalProgressBar(terminal, label="up") as bar:
        for sent in (1_000_000, 2_000_000, 2_500_000):
            bar.report_bytes(sent, 2_500_000)
    assert terminal.getvalue() == (
        f"\rup [{'#' * 12}{'.' * 18}] 1.0/2.5 MB"
        f"\rup [{'#' * 24}{'.' * 6}] 2.0/2.5 MB"
        f"\rup [{'#' * 30}] 2.5/2.5 MB\n"
    )


def test_elsewhere_a_transfer_is_a_line_per_tenth_so_a_long_upload_is_a_dozen_lines():
    log = io.StringIO()
    total = 300 * (1 << 20)  # 300 MiB in the client's 1 MiB blocks
    with TerminalProgressBar(log, label="up") as bar:
        for block in range(1, 301):
            bar.report_bytes(block << 20, total)
    lines = log.getvalue().splitlines()
    assert len(lines) == 11  # the first block's, then one per tenth reached
    assert lines[0] == f"up [{'.' * 30}] 1.0/314.6 MB"
    assert lines[1] == f"up [{'#' * 3}{'.' * 27}] 31.5/314.6 MB"
    assert lines[-1] == f"up [{'#' * 30}] 314.6/314.6 MB"


def test_a_small_file_is_counted_in_kilobytes_or_bytes():
    log = io.StringIO()
    TerminalProgressBar(log, label="up").report_bytes(35, 35)
    TerminalProgressBar(log, label="up").report_bytes(35_000, 70_000)
    assert log.getvalue() == f"up [{'#' * 30}] 35/35 B\nup [{'#' * 15}{'.' * 15}] 35.0/70.0 kB\n"
