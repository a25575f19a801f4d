"""Findings (what detection reports) and the action protocol (what transformation applies)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected span of personal data in one part's text (positions index that text)."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str = ""

    def __reduce__(self) -> tuple[type[Finding], tuple[str, int, int, float, str]]:
        # Findings come back from the workers pickled, dozens per message: rebuilding each through its
        # constructor unpickles in half the time of the dataclass's generic __setstate__.
        return Finding, (self.entity_type, self.start, self.end, self.score, self.recognizer)


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: An action returns DROP to remove the whole field the finding is in.
DROP = _Sentinel("DROP")
#: An action returns BLOCK to refuse the whole message.
BLOCK = _Sentinel("BLOCK")

ActionResult = str | _Sentinel


class ActionContext(Protocol):
    """What an action may use: the contract it acts for and that contract's keyed primitives."""

    contract: str

    def tokenize(self, entity_type: str, value: str) -> str:
        """Return the contract's deterministic token for ``value`` (stored in the vault)."""
        ...

    def keyed_hash(self, entity_type: str, value: str) -> str:
        """Return a one-way keyed hash of ``value`` under the contract's key."""
        ...


@runtime_checkable
class Action(Protocol):
    """What to do with a finding.

    ``rank`` orders actions by restrictiveness (higher wins when packs disagree). ``apply`` returns the
    replacement text, :data:`DROP` or :data:`BLOCK`; it raises ``ValueError`` for bad ``params`` (caught
    at policy load by :meth:`check_params`).
    """

    name: str
    rank: int

    def check_params(self, params: Mapping[str, Any]) -> None: ...

    def apply(
        self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext
    ) -> ActionResult: ...
