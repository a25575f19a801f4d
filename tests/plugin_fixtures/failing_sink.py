"""An audit sink that fails while ``FAIL`` is true (tests switch it in-process)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.hookspecs import hookimpl

FAIL = False
SEEN: list[int] = []


@hookimpl
def aduana_audit_record(record: Mapping[str, Any]) -> None:
    if FAIL:
        raise ConnectionError("the SIEM is down")
    SEEN.append(int(record["seq"]))
