"""An async authentication hook: refused at load (only the message hooks are awaited)."""

from __future__ import annotations

from typing import Any

from gateway.hookspecs import hookimpl


@hookimpl
async def aduana_authenticate(authorization: str | None, headers: Any, credentials: Any) -> None:
    return None
