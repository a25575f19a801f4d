"""The hook implementations Aduana loads (entry point ``acme = "aduana_acme.plugin"``).

Each function is an implementation of one of Aduana's hooks (``gateway/hookspecs.py``); the
``@hookimpl`` marker and the exact function and argument names are what Aduana matches on.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from presidio_analyzer import EntityRecognizer

from aduana_acme import numbers, webhook
from gateway.hookspecs import hookimpl


@hookimpl
def aduana_register_recognizers() -> list[EntityRecognizer]:
    """ACME order and customer numbers, in English and Spanish text."""
    return list(numbers.recognizers())


@hookimpl
def aduana_policy_packs() -> list[Path]:
    """The ``acme-numbers`` pack: contracts list it to tokenize ACME's numbers."""
    return [Path(str(resources.files("aduana_acme") / "packs" / "acme-numbers.yaml"))]


@hookimpl
def aduana_audit_record(record: Mapping[str, Any]) -> None:
    """Post every audit record to ACME's webhook (when ``ACME_AUDIT_WEBHOOK_URL`` is set)."""
    webhook.post_from_environment(record)
