"""configure_logging: one JSON object per line on stderr, with the level, an ISO UTC
timestamp, bound context variables and formatted exceptions; below-level lines dropped."""

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import structlog

from voxregen_adapters.log_config import configure_logging


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


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
