"""Built-in audit sink: copy every audit record to a JSONL file or to syslog, for a SIEM to collect.

Configured by the environment, read at each record so a restart is not needed to change it:

- ``ADUANA_AUDIT_JSONL=/var/log/aduana/audit.jsonl`` appends one canonical JSON line per record
  (opened in append mode for each record, so logrotate may move the file at any time).
- ``ADUANA_AUDIT_SYSLOG`` sends each record as one syslog message (facility ``authpriv``, tag
  ``aduana-audit``): a socket path such as ``/dev/log``, or ``udp://HOST:PORT`` / ``HOST:PORT``.

Neither set: the sink does nothing. The store stays the record of truth: this copy is for
monitoring, and a failure here is logged by the audit writer without affecting the request.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from gateway.audit.record import canonical_json
from gateway.hookspecs import hookimpl

JSONL_ENV = "ADUANA_AUDIT_JSONL"
SYSLOG_ENV = "ADUANA_AUDIT_SYSLOG"

_handlers: dict[str, logging.handlers.SysLogHandler] = {}
_lock = threading.Lock()


class _RaisingSysLogHandler(logging.handlers.SysLogHandler):
    """A SysLogHandler that lets a send failure reach the audit writer instead of printing it."""

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exception()  # the one emit() is handling
        if exc is not None:
            raise exc


def _address(spec: str) -> str | tuple[str, int]:
    if spec.startswith("/"):
        return spec
    host, sep, port = spec.removeprefix("udp://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{SYSLOG_ENV} must be a socket path or udp://HOST:PORT, got {spec!r}")
    return host.strip("[]"), int(port)


def _syslog(spec: str) -> logging.handlers.SysLogHandler:
    with _lock:
        handler = _handlers.get(spec)
        if handler is None:
            handler = _RaisingSysLogHandler(
                address=_address(spec), facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV
            )
            handler.ident = "aduana-audit: "
            _handlers[spec] = handler
        return handler


def close() -> None:
    """Close the syslog sockets this sink opened (at shutdown, and between tests)."""
    with _lock:
        for handler in _handlers.values():
            handler.close()
        _handlers.clear()


@hookimpl(trylast=True)
def aduana_audit_record(record: Mapping[str, Any]) -> None:
    path, spec = os.environ.get(JSONL_ENV), os.environ.get(SYSLOG_ENV)
    if not path and not spec:
        return  # the usual case: no copy wanted, so no encoding either (it ran twice per request)
    line = canonical_json(dict(record)).decode("utf-8")
    if path:
        # One write() of a whole line in O_APPEND mode: lines from several processes never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)
    if spec:
        handler = _syslog(spec)
        handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO, "levelname": "INFO"}))
