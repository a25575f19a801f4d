"""The shipped ``acme-numbers`` pack: it loads beside Aduana's packs and its own test cases pass."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.pluginmanager import Plugins
from gateway.policy.compile import known_entities
from gateway.policy.loader import PackLibrary
from gateway.policy.testing import run_case

PACK = "acme-numbers"


def test_the_pack_is_shipped_through_the_hook(plugins: Plugins) -> None:
    library = PackLibrary(plugins.policy_packs())
    assert PACK in library.packs
    assert {"ACME_ORDER_NUMBER", "ACME_CUSTOMER_NUMBER"} <= known_entities(plugins)


def _cases() -> list[Any]:
    from gateway.pluginmanager import load_plugins

    library = PackLibrary(load_plugins(["aduana_acme.plugin"], entry_points=False).policy_packs())
    return list(library.get(PACK).pack.tests)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.name)
def test_pack_case(plugins: Plugins, sandbox: Any, case: Any) -> None:
    library = PackLibrary(plugins.policy_packs())
    result = run_case(sandbox, library.effective([PACK]), case, PACK)
    assert result.passed, result.as_dict()
