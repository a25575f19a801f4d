"""Constants and types the policy tests share (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
#: The packs the repository ships, by name.
SHIPPED = ("baseline", "gdpr", "hipaa", "pci-dss")

#: ``write_pack(name, yaml_text)`` → the path of the written pack file.
WritePack = Callable[[str, str], Path]
