"""Built-in plugin shipping the policy packs in ``gateway.policies`` (the repository's ``policies/``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gateway.hookspecs import hookimpl


@hookimpl(trylast=True)
def aduana_policy_packs() -> list[Path]:
    folder = resources.files("gateway.policies")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml"))
