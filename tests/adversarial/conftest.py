"""Fixtures for the adversarial tests: one gateway for the bad-input catalogue, one analyzer for properties.

The catalogue's gateway (``env``) is shared by every module of this folder that asks for it (package
scope, one event loop): starting a gateway loads spaCy in a worker process, which takes seconds. Its
``acme`` contract has the helpdesk route in the *protected* direction (request bodies go upstream
protected) and a ``liar`` route in front of an upstream that lies about what it sends.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from adversarial_support import MAX_BODY, PASS_IMAGES_PACK, Env, liar_app

from gateway.inspect.analyzer import Analyzer
from gateway.pluginmanager import Plugins, load_plugins
from gateway.policy.loader import PackLibrary
from gateway.policy.merge import EffectivePolicy
from harness import GatewayHarness, gateway_config, start_helpdesk

#: The packs the catalogue's ``acme`` contract and the properties apply.
PACKS = ("baseline", "gdpr", "hipaa", "pci-dss")
def catalogue_config(helpdesk_url: str, liar_url: str) -> dict[str, Any]:
    config = gateway_config(helpdesk_url)
    config["inspection"]["max_body_bytes"] = MAX_BODY
    config["policy_paths"] = ["packs"]
    acme = config["contracts"]["acme"]
    acme["routes"][0]["protect"] = "request"
    acme["routes"].append({
        "name": "liar", "prefix": "/liar", "upstream": liar_url + "/", "methods": ["GET", "POST"],
        "protect": "response", "policy_packs": ["baseline", "gdpr", "pass-images"],
        "timeouts": {"connect_seconds": 2, "read_seconds": 5},
    })
    return config


@pytest_asyncio.fixture(loop_scope="package", scope="package")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    helpdesk_server, helpdesk = await start_helpdesk()
    liar = liar_app()
    liar_server = TestServer(liar, host="127.0.0.1", port=0)
    await liar_server.start_server()
    directory = tmp_path_factory.mktemp("adversarial")
    (directory / "packs").mkdir()
    (directory / "packs" / "pass-images.yaml").write_text(PASS_IMAGES_PACK, encoding="utf-8")
    config = catalogue_config(str(helpdesk_server.make_url("")).rstrip("/"),
                              str(liar_server.make_url("")).rstrip("/"))
    gw = await GatewayHarness(directory, config).start()
    try:
        yield Env(gw, helpdesk, liar)
    finally:
        await gw.close()
        await liar_server.close()
        await helpdesk_server.close()


# --- in-process detection, for the property tests ---------------------------------------------------


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    return load_plugins(entry_points=False)


@pytest.fixture(scope="session")
def analyzer(plugins: Plugins) -> Analyzer:
    return Analyzer(plugins.recognizers())  # spaCy loads once per session


@pytest.fixture(scope="session")
def policy(plugins: Plugins) -> EffectivePolicy:
    return PackLibrary(plugins.policy_packs()).effective(list(PACKS))
