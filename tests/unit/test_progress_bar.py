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
