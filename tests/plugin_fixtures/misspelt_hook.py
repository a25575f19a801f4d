"""A plugin with a misspelt hook name: loading must fail loudly, not ignore it."""

from __future__ import annotations

from gateway.hookspecs import hookimpl


@hookimpl
def aduana_before_upstrem(message: object) -> None:
    return None
