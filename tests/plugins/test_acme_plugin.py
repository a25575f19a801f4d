"""The third-party example ``examples/aduana-acme-plugin``, installed the way a user installs it.

Its wheel is built (no network, no build isolation) and unpacked into a folder put on ``sys.path``:
exactly what ``pip install`` leaves in site-packages, ``.dist-info/entry_points.txt`` included, so
Aduana finds it only through the ``aduana`` entry point. Nothing in the gateway's config names it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from gateway.cli.plugins import command
from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-acme")]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aduana-acme-plugin"
ORDER, CUSTOMER = "ACME-ORD-123457", "CUST-0012348"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example's wheel, unpacked onto ``sys.path`` for this module."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
         "--wheel-dir", str(out), str(EXAMPLE)],
        check=True, timeout=180, capture_output=True,
    )
    (wheel,) = out.glob("aduana_acme-*.whl")
    site = out / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(site))
        mp.delenv("ADUANA_CONFIG", raising=False)
        yield site
    for name in [m for m in sys.modules if m == "aduana_acme" or m.startswith("aduana_acme.")]:
        del sys.modules[name]


def test_plugins_list_shows_the_entry_point(installed: Path) -> None:
    result = CliRunner().invoke(command, ["list", "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    (acme,) = [p for p in json.loads(result.output) if p["name"] == "acme"]
    assert acme == {
        "name": "acme", "version": "1.0.0", "source": "entry point (aduana-acme)", "module": "aduana_acme.plugin",
        "hooks": ["aduana_audit_record", "aduana_policy_packs", "aduana_register_recognizers"],
    }


class Webhook:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.records.append(await request.json())
        return web.Response(status=204)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gateway(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ...]]:
    hook = Webhook()
    app = web.Application()
    app.router.add_post("/audit", hook.handle)
    webhook = TestServer(app, host="127.0.0.1", port=0)
    await webhook.start_server()
    helpdesk, helpdesk_app = await start_helpdesk()
    config = gateway_config(str(helpdesk.make_url("")).rstrip("/"))
    acme = config["contracts"]["acme"]
    acme["policy_packs"] = ["baseline", "gdpr", "acme-numbers"]  # the pack the plugin ships
    acme["routes"][0]["protect"] = "request"
    gw = await GatewayHarness(tmp_path_factory.mktemp("gw"), config).start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ACME_AUDIT_WEBHOOK_URL", str(webhook.make_url("/audit")))
        mp.setenv("ACME_AUDIT_WEBHOOK_TIMEOUT", "5")
        yield gw, helpdesk_app, hook
    await gw.close()
    await helpdesk.close()
    await webhook.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_the_recognizer_protects_acme_numbers_through_a_gateway(gateway: tuple[Any, ...]) -> None:
    gw, helpdesk_app, hook = gateway
    key = gw.issue_key("acme")
    body = {"author": "Support", "body": f"Order {ORDER} for customer {CUSTOMER} is on its way."}
    async with aiohttp.ClientSession() as session, session.post(
        gw.url("/helpdesk/api/tickets/1001/comments"), json=body, headers=bearer(key)
    ) as resp:
        assert resp.status == 201
        answer = await resp.json()
    (received,) = helpdesk_app[RECEIVED]
    assert ORDER not in received["body"] and CUSTOMER not in received["body"]
    assert "⟦ACME_ORDER_NUMBER_" in received["body"] and "⟦ACME_CUSTOMER_NUMBER_" in received["body"]
    assert answer["body"] == body["body"]  # the helpdesk's answer comes back restored

    # The audit sink posted the record of that request to the webhook (from the store thread).
    (record,) = [r for r in hook.records if r.get("action") == "proxy"]
    assert record["entities"]["ACME_ORDER_NUMBER"] == {"tokenize": 1}
    assert record["entities"]["ACME_CUSTOMER_NUMBER"] == {"tokenize": 1}
    assert "acme-numbers" in json.dumps(record["policy"])
    assert ORDER not in json.dumps(hook.records)


def test_the_examples_own_tests_pass() -> None:
    """The example's tests, run with the gateway's interpreter as its README says (no install needed)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"], cwd=EXAMPLE, capture_output=True, text=True,
        timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
