"""Fail closed: when anything in the inspection path breaks, nothing reaches the other side.

Each case starts its own gateway (real SQLite, real worker process) in front of the example helpdesk,
and checks the status, the reason code, that the helpdesk received nothing (for data on its way to
it) and that the failure was audited.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-failures")]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def audit_reasons(gw: GatewayHarness) -> list[tuple[str, str]]:
    assert gw.runtime is not None
    with gw.runtime.db.transaction() as tx:
        rows = tx.fetchall("SELECT body FROM audit_records ORDER BY seq")
    out = []
    for (body,) in rows:
        record = json.loads(body)
        out.append((record["decision"], record["reason"]))
    return out


Tweak = Callable[[dict[str, Any]], None]


@pytest_asyncio.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Callable[[Tweak], Any]]:
    started: list[Any] = []

    async def start(tweak: Tweak) -> tuple[GatewayHarness, Any, str]:
        server, app = await start_helpdesk()
        config = gateway_config(str(server.make_url("")).rstrip("/"))
        tweak(config)
        gw = await GatewayHarness(tmp_path / "gw", config).start()
        started.append((gw, server))
        return gw, app, gw.issue_key("acme")

    yield start
    for gw, server in started:
        await gw.close()
        await server.close()


async def request(gw: GatewayHarness, key: str, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.request(
        method, gw.url(path), headers=bearer(key), **kwargs
    ) as resp:
        return resp.status, await resp.json(content_type=None)


def protect_requests(config: dict[str, Any]) -> None:
    """The acme route sends company data to the upstream: request bodies are protected."""
    config["contracts"]["acme"]["routes"][0]["protect"] = "request"


TICKET_REPLY = {"author": "Support", "body": "Dear Margaret Ellison, your card 4111 1111 1111 1111 is refunded."}


async def test_protected_direction_sends_only_tokens_upstream(setup: Any) -> None:
    gw, app, key = await setup(protect_requests)
    status, _ = await request(gw, key, "POST", "/helpdesk/api/tickets/1001/comments", json=TICKET_REPLY)
    assert status == 201
    (received,) = app[RECEIVED]
    assert "Margaret Ellison" not in received["body"] and "4111 1111 1111 1111" not in received["body"]
    assert "⟦PERSON_" in received["body"]
    # Query values on the protected way are protected too.
    app[RECEIVED].clear()
    await request(gw, key, "GET", "/helpdesk/api/customers", params={"email": "margaret.ellison@example.com"})
    assert app[RECEIVED][0]["query"]["email"].startswith("⟦EMAIL_ADDRESS_")


async def test_analyzer_over_its_time_budget(setup: Any) -> None:
    def tweak(config: dict[str, Any]) -> None:
        protect_requests(config)
        config["inspection"]["timeout_seconds"] = 0.001

    gw, app, key = await setup(tweak)
    status, body = await request(gw, key, "POST", "/helpdesk/api/tickets/1001/comments", json=TICKET_REPLY)
    assert (status, body["error"]["reason"]) == (503, "inspection_timeout")
    assert app[RECEIVED] == []
    assert ("failed", "inspection_timeout") in audit_reasons(gw)


@pytest.mark.parametrize(
    ("module", "payload", "reason"),
    [
        ("plugin_fixtures.boom_before_upstream", TICKET_REPLY, "plugin_failed:plugin_fixtures.boom_before_upstream"),
        ("plugin_fixtures.boom_recognizer", {"author": "x", "body": "KABOOM"},
         "plugin_failed:plugin_fixtures.boom_recognizer"),
    ],
)
async def test_a_failing_plugin_blocks_the_message(
    setup: Any, module: str, payload: dict[str, str], reason: str
) -> None:
    def tweak(config: dict[str, Any]) -> None:
        protect_requests(config)
        config["plugins"] = [module]

    gw, app, key = await setup(tweak)
    status, body = await request(gw, key, "POST", "/helpdesk/api/tickets/1001/comments", json=payload)
    assert (status, body["error"]["reason"]) == (500, reason)
    assert app[RECEIVED] == []
    assert ("failed", reason) in audit_reasons(gw)


async def test_upstream_down(setup: Any) -> None:
    def tweak(config: dict[str, Any]) -> None:
        config["contracts"]["acme"]["routes"][0]["upstream"] = f"http://127.0.0.1:{closed_port()}/"

    gw, _, key = await setup(tweak)
    status, body = await request(gw, key, "GET", "/helpdesk/api/tickets/1001")
    assert (status, body["error"]["reason"]) == (502, "upstream_unreachable")
    assert ("failed", "upstream_unreachable") in audit_reasons(gw)


async def test_upstream_too_slow(setup: Any) -> None:
    def tweak(config: dict[str, Any]) -> None:
        config["contracts"]["acme"]["routes"][0]["timeouts"] = {"connect_seconds": 2, "read_seconds": 0.3}

    gw, _, key = await setup(tweak)
    status, body = await request(gw, key, "GET", "/helpdesk/api/slow", params={"seconds": "3"})
    assert (status, body["error"]["reason"]) == (504, "upstream_timeout")


async def test_upstream_body_over_the_limit_is_not_released(setup: Any) -> None:
    gw, _, key = await setup(lambda config: None)
    status, body = await request(gw, key, "GET", "/helpdesk/api/big", params={"kb": "400"})
    assert (status, body["error"]["reason"]) == (502, "upstream_body_too_large")


async def test_store_failure_forwards_nothing(setup: Any) -> None:
    gw, app, key = await setup(protect_requests)
    assert gw.runtime is not None
    # Break the vault from outside the gateway, as a damaged or mis-migrated store would be.
    path = gw.runtime.config.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE vault")
    status, body = await request(gw, key, "POST", "/helpdesk/api/tickets/1001/comments", json=TICKET_REPLY)
    assert (status, body["error"]["reason"]) == (503, "store_unavailable")
    assert app[RECEIVED] == []
    assert ("failed", "store_unavailable") in audit_reasons(gw)
