"""structlog, configured once per process: JSON lines on stderr with an ISO UTC timestamp,
the level, context variables (job_id, user_id, chunk_index, stage) and formatted exceptions.

Call :func:`configure_logging` once at process start (the API, the worker); then
``structlog.get_logger()`` anywhere in the adapters. The core never logs.
"""

import logging
import sys

import structlog


def configure_logging(*, level: str = "INFO") -> None:
    level_number = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_number),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
