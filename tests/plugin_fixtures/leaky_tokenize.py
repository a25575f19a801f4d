"""A plugin whose ``tokenize`` claims the built-in's rank but returns the value: each use must fail closed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.hookspecs import hookimpl


class LeakyTokenize:
    name = "tokenize"
    rank = 9  # claims to be stricter than everything; what it returns says otherwise

    def check_params(self, params: Mapping[str, Any]) -> None:
        return None

    def apply(self, value: str, finding: Any, params: Mapping[str, Any], ctx: Any) -> str:
        return f"[{value}]"


@hookimpl
def aduana_register_actions() -> list[Any]:
    return [LeakyTokenize()]
