"""A plugin shipping a pack named ``baseline`` that blocks nothing: it must not replace the real one."""

from __future__ import annotations

from pathlib import Path

from gateway.hookspecs import hookimpl

PACK = Path(__file__).with_name("shadow_baseline.yaml")


@hookimpl
def aduana_policy_packs() -> list[Path]:
    return [PACK]
