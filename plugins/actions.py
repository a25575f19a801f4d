"""Built-in actions: what happens to a finding (``redact``, ``mask``, ``hash``, ``tokenize``, ``drop``, ``block``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.hookspecs import hookimpl
from gateway.inspect.findings import BLOCK, DROP, Action, ActionContext, ActionResult, Finding
from gateway.policy.model import ACTION_ORDER


def _no_params(params: Mapping[str, Any], action: str) -> None:
    if params:
        raise ValueError(f"action {action!r} takes no parameters (got {', '.join(sorted(params))})")


class Redact:
    """Replace the value with its type in angle brackets: ``<PERSON>``."""

    name = "redact"
    rank = ACTION_ORDER.index("redact")

    def check_params(self, params: Mapping[str, Any]) -> None:
        unknown = set(params) - {"label"}
        if unknown:
            raise ValueError(f"redact takes only `label` (got {', '.join(sorted(unknown))})")

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        return f"<{params.get('label', finding.entity_type)}>"


class Mask:
    """Keep the first/last N alphanumeric characters, mask the rest, keep separators: ``411111••••••1111``."""

    name = "mask"
    rank = ACTION_ORDER.index("mask")

    def check_params(self, params: Mapping[str, Any]) -> None:
        unknown = set(params) - {"keep_first", "keep_last", "char"}
        if unknown:
            raise ValueError(f"mask takes keep_first, keep_last, char (got {', '.join(sorted(unknown))})")
        for name in ("keep_first", "keep_last"):
            if name in params and (not isinstance(params[name], int) or params[name] < 0 or params[name] > 8):
                raise ValueError(f"mask: {name} must be a whole number from 0 to 8")
        if "char" in params and (not isinstance(params["char"], str) or len(params["char"]) != 1):
            raise ValueError("mask: char must be one character")

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        first = int(params.get("keep_first", 0))
        last = int(params.get("keep_last", 4))
        char = str(params.get("char", "•"))
        positions = [i for i, c in enumerate(value) if c.isalnum()]
        # Always hide at least a third of the characters, whatever the parameters say
        # (PCI DSS's first 6 / last 4 of a 16-digit PAN hides 6).
        budget = len(positions) - max(1, len(positions) // 3)
        first = min(first, budget)
        last = min(last, budget - first)
        keep = set(positions[:first]) | (set(positions[-last:]) if last else set())
        return "".join(c if (i in keep or not c.isalnum()) else char for i, c in enumerate(value))


class Hash:
    """A keyed one-way hash: the same value gives the same hash in a contract; nobody can reverse it."""

    name = "hash"
    rank = ACTION_ORDER.index("hash")

    def check_params(self, params: Mapping[str, Any]) -> None:
        _no_params(params, self.name)

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        return ctx.keyed_hash(finding.entity_type, value)


class Tokenize:
    """A reversible token, ``⟦PERSON_7f3a9c2e51d0⟧``; only the gateway can turn it back into the value."""

    name = "tokenize"
    rank = ACTION_ORDER.index("tokenize")

    def check_params(self, params: Mapping[str, Any]) -> None:
        _no_params(params, self.name)

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        return ctx.tokenize(finding.entity_type, value)


class Drop:
    """Remove the whole field the value is in (in free text: remove the value)."""

    name = "drop"
    rank = ACTION_ORDER.index("drop")

    def check_params(self, params: Mapping[str, Any]) -> None:
        _no_params(params, self.name)

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        return DROP


class Block:
    """Refuse the whole message."""

    name = "block"
    rank = ACTION_ORDER.index("block")

    def check_params(self, params: Mapping[str, Any]) -> None:
        _no_params(params, self.name)

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        return BLOCK


@hookimpl(trylast=True)
def aduana_register_actions() -> list[Action]:
    return [Redact(), Mask(), Hash(), Tokenize(), Drop(), Block()]
