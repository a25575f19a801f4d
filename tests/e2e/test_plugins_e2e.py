"""Plugins end to end: a real gateway (SQLite, inspection worker) with plugins named in its config.

One gateway serves the well-behaved and the tampering plugins (switched in-process); the plugins that
try to weaken the policy each get their own gateway. Every case checks what reached the helpdesk and
what the audit trail says.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from gateway.errors import ConfigError
from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED
from plugin_fixtures import failing_sink, tamper_message

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-plugins")]

SHARED_PLUGINS = [
    "plugin_fixtures.annotate",
    "plugin_fixtures.tamper_message",
    "plugin_fixtures.veto",
    "plugin_fixtures.header_auth",
    "plugin_fixtures.failing_sink",
    "plugin_fixtures.quiet_recognizer",
]
NAME, CARD, EMAIL = "Margaret Ellison", "4111 1111 1111 1111", "margaret.ellison@example.com"
REPLY = {"author": "Support", "body": f"Dear {NAME}, your card {CARD} is refunded; we wrote to {EMAIL}."}
COMMENTS = "/helpdesk/api/tickets/1001/comments"


def config(upstream: str, plugins: list[str]) -> dict[str, Any]:
    data = gateway_config(upstream)
    data["contracts"]["acme"]["routes"][0]["protect"] = "request"  # company data flows to the upstream
    data["plugins"] = plugins
    return data


class Env:
    def __init__(self, gw: GatewayHarness, helpdesk: Any) -> None:
        self.gw, self.helpdesk = gw, helpdesk
        self.key = gw.issue_key("acme")

    def received(self) -> list[dict[str, Any]]:
        return list(self.helpdesk[RECEIVED])

    def records(self) -> list[dict[str, Any]]:
        assert self.gw.runtime is not None
        with self.gw.runtime.db.transaction() as tx:
            return [json.loads(body) for (body,) in tx.fetchall("SELECT body FROM audit_records ORDER BY seq")]

    async def post(self, body: Any = REPLY, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        self.helpdesk[RECEIVED].clear()
        sent = bearer(self.key) if headers is None else headers
        async with aiohttp.ClientSession() as session, session.post(
            self.gw.url(COMMENTS), json=body, headers=sent
        ) as resp:
            return resp.status, await resp.json(content_type=None)


async def start(directory: Path, plugins: list[str]) -> tuple[Env, Any]:
    server, app = await start_helpdesk()
    gw = await GatewayHarness(directory, config(str(server.make_url("")).rstrip("/"), plugins)).start()
    return Env(gw, app), server


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    e, server = await start(tmp_path_factory.mktemp("gw"), SHARED_PLUGINS)
    yield e
    await e.gw.close()
    await server.close()


@pytest.fixture
def switches() -> Iterator[None]:
    yield
    tamper_message.MODE = None
    failing_sink.FAIL = False


def assert_protected(text: str) -> None:
    for value in (NAME, CARD, CARD.replace(" ", ""), EMAIL):
        assert value not in text, f"{value!r} crossed the gateway"


async def test_well_behaved_plugins_annotate_and_cannot_hide_findings(env: Env) -> None:
    # quiet_recognizer reports the name and the card with a near-zero score over the same spans, and
    # nothing for the e-mail address: every other recognizer's findings still count.
    status, _ = await env.post()
    assert status == 201
    (received,) = env.received()
    assert_protected(received["body"])
    body = json.loads(received["body"])["body"]
    assert "⟦PERSON_" in body and "⟦EMAIL_ADDRESS_" in body
    record = env.records()[-1]
    assert (record["decision"], record["reason"]) == ("forwarded", "ok")
    assert record["details"]["annotations"] == ["fixture.request_seen", "fixture.response_seen"]


@pytest.mark.parametrize("mode", ["request-body", "request-header", "response-body", "response-status"])
async def test_a_hook_that_changes_the_message_is_refused(env: Env, switches: None, mode: str) -> None:
    tamper_message.MODE = mode
    status, body = await env.post()
    reason = "plugin_failed:plugin_fixtures.tamper_message"
    assert (status, body["error"]["reason"]) == (500, reason)
    assert tamper_message.LEAK not in json.dumps(body)
    if mode.startswith("request"):
        assert env.received() == []  # nothing forwarded
    else:
        (received,) = env.received()  # forwarded protected; the response was not released
        assert_protected(received["body"])
    record = env.records()[-1]
    assert (record["decision"], record["reason"]) == ("failed", reason)


async def test_a_veto_blocks_the_message(env: Env) -> None:
    status, body = await env.post({"author": "Support", "body": "VETO this one"})
    assert (status, body["error"]["reason"]) == (422, "policy_block")
    assert env.received() == []
    record = env.records()[-1]
    assert (record["decision"], record["reason"]) == ("blocked", "policy_block")


@pytest.mark.parametrize(
    ("headers", "status", "credential"),
    [
        ({"X-Test-Vendor": "acme-sso-assertion"}, 201, "sso:test"),  # no API key at all
        ({"X-Test-Vendor": "acme-sso-assertion", "Authorization": "Bearer x"}, 201, "sso:test"),  # plugin first
        ({"X-Test-Vendor": "forged"}, 401, None),
    ],
)
async def test_a_plugin_authenticates_before_the_builtin(
    env: Env, headers: dict[str, str], status: int, credential: str | None
) -> None:
    got, _ = await env.post(headers=headers)
    assert got == status
    record = env.records()[-1]
    assert record["credential_id"] == credential


async def test_a_failing_audit_sink_is_logged_and_audited_and_the_request_succeeds(
    env: Env, switches: None
) -> None:
    failing_sink.FAIL = True
    status, _ = await env.post()
    assert status == 201  # the record was committed before the sink ran
    records = env.records()
    request = next(r for r in reversed(records) if r["action"] == "proxy")
    # A failing streak is recorded once, naming the first record the sink missed: this request's
    # proxy.forwarding record, written before the upstream call.
    missed = next(r for r in records if r["request_id"] == request["request_id"])
    assert missed["action"] == "proxy.forwarding"
    (failure,) = [r for r in records if r["action"] == "audit.sink-failed" and r["seq"] > missed["seq"]]
    assert (failure["decision"], failure["reason"]) == ("failed", "sink_failed")
    assert failure["details"]["seq"] == missed["seq"]  # names the record the sink missed
    log = (env.gw.directory / "state" / "aduana.log").read_text(encoding="utf-8")
    assert "audit sink failed" in log
    failing_sink.FAIL = False
    status, _ = await env.post()
    assert status == 201 and failing_sink.SEEN[-1] == env.records()[-1]["seq"]


# --- plugins that try to weaken the policy: each on its own gateway ---------------------------------


async def test_a_weaker_action_under_a_builtin_name_stops_start_up(tmp_path: Path) -> None:
    server, _ = await start_helpdesk()
    gw = GatewayHarness(tmp_path / "gw", config(str(server.make_url("")).rstrip("/"),
                                                  ["plugin_fixtures.weak_tokenize"]))
    try:
        with pytest.raises(ConfigError, match=r"action 'tokenize'.*cannot weaken"):
            await gw.start()
    finally:
        await gw.close()
        await server.close()


@pytest.mark.parametrize(
    "plugin",
    [
        "plugin_fixtures.leaky_tokenize",  # claims a high rank, returns the value
        "plugin_fixtures.hiding_json_handler",  # parses application/json into nothing to inspect
    ],
)
async def test_a_plugin_that_would_let_data_through_fails_closed(tmp_path: Path, plugin: str) -> None:
    e, server = await start(tmp_path / "gw", [plugin])
    try:
        status, body = await e.post()
        assert (status, body["error"]["reason"]) == (500, f"plugin_failed:{plugin}")
        assert e.received() == []
        record = e.records()[-1]
        assert (record["decision"], record["reason"]) == ("failed", f"plugin_failed:{plugin}")
    finally:
        await e.gw.close()
        await server.close()
