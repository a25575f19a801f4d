"""A plugin whose before-upstream hook raises: the request must fail closed, naming this plugin."""

from __future__ import annotations

from gateway.hookspecs import hookimpl
from gateway.proxy.message import Message


@hookimpl
def aduana_before_upstream(message: Message) -> None:
    raise RuntimeError("boom")
