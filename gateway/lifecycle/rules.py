"""What a contract's effective policy says about its data's life: retention periods and the packs behind them.

A contract's routes may apply different packs; the lifecycle works per contract (one vault, one set of
keys), so the routes' policies are folded together the way packs merge: for vault entries and payloads
the *shortest* period wins (keep personal data no longer than any pack allows), for audit records the
*longest* (a regulator's minimum must be met). Every period remembers the pack that set it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from gateway.audit.retention import duration
from gateway.config import Config
from gateway.pluginmanager import Plugins
from gateway.policy.merge import EffectivePolicy, PackRef

#: The data classes a policy pack can give a retention period.
DATA_CLASSES: Final = ("vault", "payloads", "audit")
_LONGEST_WINS: Final = frozenset({"audit"})


@dataclass(frozen=True)
class ContractPolicy:
    """The packs a contract applies (over all its routes) and its retention period per data class."""

    contract: str
    vendor: str
    packs: tuple[PackRef, ...]
    retention: Mapping[str, tuple[str, str]]  # data class -> (ISO period, pack label)

    def period(self, data_class: str) -> timedelta | None:
        """How long ``data_class`` is kept, or ``None`` when no pack of the contract sets a period."""
        rule = self.retention.get(data_class)
        return duration(rule[0]) if rule else None

    def as_dict(self) -> dict[str, Any]:
        """The policy as a certificate names it: packs (name, version, digest) and retention rules."""
        return {
            "packs": [p.as_dict() for p in self.packs],
            "retention": {k: {"period": v, "pack": src} for k, (v, src) in sorted(self.retention.items())},
        }


def fold(contract: str, vendor: str, policies: Iterable[EffectivePolicy]) -> ContractPolicy:
    """One contract's routes' policies folded into one :class:`ContractPolicy` (see the module doc)."""
    packs: dict[str, PackRef] = {}
    retention: dict[str, tuple[str, str]] = {}
    for policy in policies:
        for ref in policy.packs:
            packs.setdefault(f"{ref.name}@{ref.version}:{ref.digest}", ref)
        for data_class, (period, source) in policy.retention.items():
            current = retention.get(data_class)
            if current is None:
                retention[data_class] = (period, source)
                continue
            longer = duration(period) > duration(current[0])
            if longer == (data_class in _LONGEST_WINS):
                retention[data_class] = (period, source)
    return ContractPolicy(contract, vendor, tuple(packs.values()), retention)


def from_compiled(config: Config, policies: Mapping[tuple[str, str], EffectivePolicy]) -> dict[str, ContractPolicy]:
    """Every contract's policy from the gateway's compiled ``(contract, route) -> policy`` table."""
    return {
        name: fold(name, contract.vendor, [policies[(name, r.name)] for r in contract.routes
                                           if (name, r.name) in policies])
        for name, contract in config.contracts.items()
    }


def load(config: Config, plugins: Plugins) -> dict[str, ContractPolicy]:
    """Every contract's policy, read from the pack library (lighter than compiling: no recognizers)."""
    from gateway.policy.compile import library

    lib = library(config, plugins)
    out = {}
    for name, contract in config.contracts.items():
        out[name] = fold(name, contract.vendor,
                         [lib.effective(route.policy_packs or contract.policy_packs) for route in contract.routes])
    return out
