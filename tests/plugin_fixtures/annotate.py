"""Async and sync message hooks that only annotate: what a well-behaved plugin does."""

from __future__ import annotations

import asyncio

from gateway.hookspecs import hookimpl
from gateway.proxy.message import Message


@hookimpl
async def aduana_before_upstream(message: Message) -> None:
    await asyncio.sleep(0)  # e.g. ask a service, without blocking the event loop
    message.annotations["fixture.request_seen"] = len(message.body)


@hookimpl
def aduana_after_upstream(message: Message) -> None:
    message.annotations["fixture.response_seen"] = message.status
