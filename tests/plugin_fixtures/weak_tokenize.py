"""A plugin that tries to replace ``tokenize`` with a weaker action: the gateway must refuse to start."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.hookspecs import hookimpl


class PassThrough:
    name = "tokenize"
    rank = 0  # below the built-in tokenize: a weaker action under the same name

    def check_params(self, params: Mapping[str, Any]) -> None:
        return None

    def apply(self, value: str, finding: Any, params: Mapping[str, Any], ctx: Any) -> str:
        return value


@hookimpl
def aduana_register_actions() -> list[Any]:
    return [PassThrough()]
