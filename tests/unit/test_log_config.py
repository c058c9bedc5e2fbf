"""configure_logging: one JSON object per line on stderr, with the level, an ISO UTC
timestamp, bound context variables and formatted exceptions; below-level lines dropped. The
stdlib logging records of libraries (Dramatiq, uvicorn) come out the same way."""

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import structlog

from voxregen_adapters.log_config import configure_logging


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root.handlers[:] = handlers  # not the handler on this test's captured stderr
    root.setLevel(level)


def _lines(capsys) -> list[dict]:
    captured = capsys.readouterr()
    assert captured.out == ""
    return [json.loads(line) for line in captured.err.splitlines()]


def test_a_line_is_json_with_level_timestamp_and_context_variables(capsys):
    configure_logging()
    with structlog.contextvars.bound_contextvars(job_id="j-1", user_id="u-1"):
        structlog.get_logger().info("render_chunk", chunk_index=2, stage="chunks", elapsed_ms=1.5)
    structlog.get_logger().info("after")

    first, second = _lines(capsys)
    stamp = datetime.fromisoformat(first.pop("timestamp"))
    assert stamp.utcoffset() == timedelta(0)
    assert first.pop("process") == os.getpid()
    assert first == {
        "event": "render_chunk",
        "level": "info",
        "job_id": "j-1",
        "user_id": "u-1",
        "chunk_index": 2,
        "stage": "chunks",
        "elapsed_ms": 1.5,
    }
    assert "job_id" not in second  # the context ends with its block


class _RecordedWrites(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_each_line_leaves_in_one_write_so_processes_sharing_stderr_never_interleave(
    monkeypatch,
):
    stderr = _RecordedWrites()
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging()
    structlog.get_logger().info("render_chunk_generating", chunk_index=3)
    logging.getLogger("dramatiq").warning("from dramatiq")
    assert len(stderr.writes) == 2
    assert all(text.endswith("}\n") and text.count("\n") == 1 for text in stderr.writes)


def test_exceptions_are_formatted_into_the_line(capsys):
    configure_logging()
    try:
        raise ValueError("bad chunk")
    except ValueError:
        structlog.get_logger().exception("render_failed")
    (line,) = _lines(capsys)
    assert line["level"] == "error"
    assert "Traceback" in line["exception"] and "ValueError: bad chunk" in line["exception"]


def test_lines_below_the_level_are_dropped(capsys):
    configure_logging(level="warning")
    structlog.get_logger().info("quiet")
    structlog.get_logger().warning("loud")
    assert [line["event"] for line in _lines(capsys)] == ["loud"]


def test_a_stdlib_record_is_one_json_line_with_level_timestamp_and_logger(capsys):
    configure_logging()
    with structlog.contextvars.bound_contextvars(job_id="j-1"):
        logging.getLogger("dramatiq.worker").warning("Retrying %s in %d ms", "render_job", 500)
    (line,) = _lines(capsys)
    stamp = datetime.fromisoformat(line.pop("timestamp"))
    assert stamp.utcoffset() == timedelta(0)
    assert line.pop("process") == os.getpid()
    assert line == {
        "event": "Retrying render_job in 500 ms",
        "level": "warning",
        "logger": "dramatiq.worker",
        "job_id": "j-1",
    }


def test_a_stdlib_exception_is_formatted_and_below_level_records_are_dropped(capsys):
    configure_logging(level="warning")
    logging.getLogger("dramatiq").info("quiet")
    try:
        raise ValueError("bad message")
    except ValueError:
        logging.getLogger("dramatiq").exception("actor_failed")
    (line,) = _lines(capsys)
    assert line["event"] == "actor_failed" and line["level"] == "error"
    assert "ValueError: bad message" in line["exception"]


def test_configuring_twice_prints_each_line_once(capsys):
    configure_logging()
    configure_logging()
    logging.getLogger("dramatiq").warning("once")
    structlog.get_logger().warning("once too")
    assert [line["event"] for line in _lines(capsys)] == ["once", "once too"]


def test_after_uvicorn_applies_its_log_config_every_line_of_the_process_is_json():
    """As in ``voxregen api``: the command configures logging, then uvicorn applies the
    log config of ``voxregen.cli.processes`` (in a child process: it is global)."""
    script = textwrap.dedent(
        """
        import logging, logging.config
        from voxregen.cli.processes import _uvicorn_log_config
        from voxregen_adapters.log_config import configure_logging
        configure_logging()
        logging.config.dictConfig(_uvicorn_log_config())
        logging.getLogger("uvicorn.error").info("Started server process")
        logging.getLogger("dramatiq").warning("from dramatiq")
        logging.getLogger("sqlalchemy.pool").warning("from sqlalchemy")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == ""
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["level"], line["event"]) for line in lines] == [
        ("uvicorn.error", "info", "Started server process"),
        ("dramatiq", "warning", "from dramatiq"),
        ("sqlalchemy.pool", "warning", "from sqlalchemy"),
    ]
    assert all("timestamp" in line for line in lines)
