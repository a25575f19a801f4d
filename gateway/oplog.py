"""Operational logs: structlog JSON lines, one per request, with types and counts — never values.

Separate from the audit trail (which is the record of decisions). Nothing here may carry a personal
value: log only ids, route names, path templates, reason codes, status codes, counts and timings.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog


def configure(level: str = "info", file: Path | None = None, stream: TextIO | None = None) -> None:
    """Send JSON log lines to ``stream`` (stderr by default) and, if given, append them to ``file``."""
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    root = logging.getLogger("aduana")
    for old in root.handlers:
        old.close()
    root.handlers.clear()
    for h in handlers:
        h.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(h)
    root.setLevel(level.upper())
    root.propagate = False
    # aiohttp's access log repeats the path with its query: it may hold values. Ours logs templates.
    logging.getLogger("aiohttp.access").disabled = True
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


def close() -> None:
    """Close the log handlers (files) opened by :func:`configure`."""
    root = logging.getLogger("aduana")
    for handler in root.handlers:
        handler.close()
    root.handlers.clear()


def get_logger(**initial: Any) -> Any:
    return structlog.get_logger("aduana").bind(**initial)
