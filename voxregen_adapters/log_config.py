"""structlog, configured once per process: JSON lines on stderr with an ISO UTC timestamp,
the level, the process id (``process``), context variables (job_id, user_id, chunk_index,
stage) and formatted exceptions.

Call :func:`configure_logging` once at process start (the API, the worker); then
``structlog.get_logger()`` anywhere in the adapters. The core never logs. The stdlib
``logging`` records of the libraries (Dramatiq, uvicorn, SQLAlchemy, …) go through the same
processors, so every line a process prints is one JSON object.

Each line leaves in one ``write`` call, its newline included, so that the lines of processes
sharing one stderr (``voxregen serve``'s API and workers) never interleave; ``process`` says
which process wrote it.
"""

import logging
import os
import sys

import structlog


class _JsonLinesHandler(logging.StreamHandler):
    """The root logger's handler that :func:`configure_logging` installs (and replaces when it
    is called again)."""


def _add_process(logger: object, method_name: str, event_dict: dict) -> dict:
    """The id of the process writing the line, as ``process`` (``pid`` is left to events
    about another process, such as the supervisor's ``child_exited``)."""
    event_dict["process"] = os.getpid()
    return event_dict


def configure_logging(*, level: str = "INFO") -> None:
    """JSON lines on stderr at ``level`` and above, for structlog and stdlib loggers alike.
    Idempotent: a second call replaces the first's configuration, never doubles a line."""
    level_number = logging.getLevelName(level.upper())
    stamped = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_process,
    ]
    structlog.configure(
        processors=[
            *stamped,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_number),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = _JsonLinesHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *stamped],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _JsonLinesHandler)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level_number)
