"""Lifecycle listeners and a key provider: ``CALLS`` records what they were told; ``BOOM`` makes them fail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.hookspecs import hookimpl

CALLS: list[tuple[str, tuple[Any, ...]]] = []
BOOM = False
KEY = bytes(range(32))


def _record(hook: str, *args: Any) -> None:
    CALLS.append((hook, args))
    if BOOM:
        raise RuntimeError(f"{hook} failed")


@hookimpl
def aduana_contract_terminated(contract: str, certificate: Mapping[str, Any]) -> None:
    _record("contract_terminated", contract, dict(certificate))


@hookimpl
def aduana_keys_rotated(contract: str | None, kind: str, old_version: str, new_version: str) -> None:
    _record("keys_rotated", contract, kind, old_version, new_version)


@hookimpl
def aduana_retention_run(contract: str | None, counts: Mapping[str, int]) -> None:
    _record("retention_run", contract, dict(counts))


class MemoryKeyProvider:
    def master_key(self) -> bytes:
        return KEY

    def describe(self) -> str:
        return "memory (tests only)"


@hookimpl
def aduana_key_provider(source: str) -> MemoryKeyProvider | None:
    return MemoryKeyProvider() if source.startswith("memory:") else None
