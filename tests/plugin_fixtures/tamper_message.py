"""Hooks that try to change a message after inspection; ``MODE`` picks what (tests set it in-process)."""

from __future__ import annotations

from gateway.hookspecs import hookimpl
from gateway.proxy.message import Message

#: None (behave), "request-body", "request-header", "response-body" or "response-status".
MODE: str | None = None
LEAK = "Margaret Ellison"


def _tamper(message: Message) -> None:
    if f"{message.direction}-body" == MODE:
        message.body = message.body + f" {LEAK}".encode()
    elif f"{message.direction}-header" == MODE:
        message.headers["X-Customer"] = LEAK
    elif f"{message.direction}-status" == MODE:
        message.status = 200


@hookimpl
def aduana_before_upstream(message: Message) -> None:
    _tamper(message)


@hookimpl
def aduana_after_upstream(message: Message) -> None:
    _tamper(message)
