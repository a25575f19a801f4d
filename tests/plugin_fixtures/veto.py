"""A before-upstream hook that vetoes any request whose (protected) body says VETO."""

from __future__ import annotations

from gateway.errors import PolicyBlockedError
from gateway.hookspecs import hookimpl
from gateway.proxy.message import Message


@hookimpl
def aduana_before_upstream(message: Message) -> None:
    if b"VETO" in message.body:
        raise PolicyBlockedError("vetoed by plugin_fixtures.veto")
