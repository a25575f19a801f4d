"""Isolation between contracts, and between vendors and the admin side, on a real gateway (issue 9.5).

Already proven elsewhere, not repeated here: a key on another contract's route is refused
(``test_proxy.py::test_refusals_are_json_with_request_id_and_forward_nothing``, "other contract's route"),
another contract's token is forwarded as it is (``test_proxy.py::test_another_contracts_token_is_left_as_is``),
an auditor cannot checkpoint or manage vendor keys (``test_admin_api.py::test_refusals``). This module adds
what those leave open: the audit trail's view of a cross-contract attempt, every admin route against a
vendor key and against the auditor role (taken from the running app, so a new route is covered without
editing this file), the vendor listener reaching no admin or audit data, constant-time token checks and
the loopback default.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from gateway.config import Config, Listener, Listeners
from gateway.keys import crypto
from gateway.server import admin_tokens
from gateway.server.admin_tokens import AdminTokens
from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-isolation")]

#: What the auditor may read: the audit trail and who it is. Everything else is an operator's.
AUDITOR_PATHS = re.compile(r"^/api/v1/(whoami|audit/(records|public-key|verify|exports(/.*)?))$")


class Env:
    def __init__(self, gw: GatewayHarness, helpdesk: Any, session: aiohttp.ClientSession) -> None:
        self.gw, self.helpdesk, self.session = gw, helpdesk, session
        self.keys = {c: gw.issue_key(c) for c in ("acme", "globex")}
        assert gw.runtime is not None
        tokens = AdminTokens(gw.runtime.db, gw.runtime.keyring)
        self.auditor = tokens.issue("auditor")[1]
        self.operator = tokens.issue("operator")[1]

    async def vendor(self, method: str, path: str, key: str, **kwargs: Any) -> tuple[int, Any, str]:
        self.helpdesk[RECEIVED].clear()
        async with self.session.request(method, self.gw.url(path), headers=bearer(self.keys[key]), **kwargs) as r:
            return r.status, await r.json(content_type=None), r.headers["X-Request-Id"]

    def record(self, request_id: str) -> dict[str, Any]:
        return self.gw.record(request_id)

    def admin_routes(self) -> list[tuple[str, str]]:
        """(method, path) of every admin API route of the running app, parameters filled in."""
        assert self.gw.admin is not None
        found = set()
        for route in self.gw.admin.app.router.routes():
            path = route.resource.canonical if route.resource else ""
            if path.startswith("/api/") and route.method != "HEAD":
                found.add((route.method, re.sub(r"\{[^}]+\}", "x0000000000000", path)))
        return sorted(found)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    server, app = await start_helpdesk()
    gw = await GatewayHarness(tmp_path_factory.mktemp("isolation"),
                              gateway_config(str(server.make_url("")).rstrip("/"))).start()
    async with aiohttp.ClientSession() as session:
        yield Env(gw, app, session)
    await gw.close()
    await server.close()


@pytest.mark.parametrize(("key", "path"), [("acme", "/globex/api/tickets/1001"),
                                           ("globex", "/helpdesk/api/tickets/1001")])
async def test_a_key_on_another_contracts_route_is_refused_and_audited_under_its_own(
    env: Env, key: str, path: str
) -> None:
    status, body, request_id = await env.vendor("GET", path, key)
    assert (status, body["error"]["reason"]) == (403, "wrong_contract")
    assert env.helpdesk[RECEIVED] == []
    record = env.record(request_id)
    assert (record["contract"], record["decision"], record["reason"]) == (key, "blocked", "wrong_contract")
    assert record["entities"] == {}


async def test_another_contracts_token_is_not_restored_and_is_counted(env: Env) -> None:
    _, ticket, _ = await env.vendor("GET", "/helpdesk/api/tickets/1001", "acme")
    token = ticket["requester"]["name"]
    assert token.startswith("⟦PERSON_")
    status, _, request_id = await env.vendor("POST", "/globex/api/tickets/1001/comments", "globex",
                                             json={"author": "agent", "body": f"Hello {token}"})
    assert status == 201
    (received,) = env.helpdesk[RECEIVED]
    assert json.loads(received["body"])["body"] == f"Hello {token}"  # acme's token means nothing to globex
    record = env.record(request_id)
    assert record["contract"] == "globex"
    assert (record["details"]["restored"], record["details"]["unknown_tokens"]) == (0, 1)
    # The same token comes back restored for its own contract: the refusal above was about the contract.
    status, _, request_id = await env.vendor("POST", "/helpdesk/api/tickets/1001/comments", "acme",
                                             json={"author": "agent", "body": f"Hello {token}"})
    assert status == 201 and token not in env.helpdesk[RECEIVED][0]["body"]
    assert env.record(request_id)["details"]["restored"] == 1


@pytest.mark.parametrize("path", ["/api/v1/audit/records", "/api/v1/whoami", "/metrics", "/healthz", "/readyz"])
async def test_the_vendor_listener_reaches_no_admin_or_audit_data(env: Env, path: str) -> None:
    status, body, request_id = await env.vendor("GET", path, "acme")
    assert (status, body["error"]["reason"]) == (404, "no_route")
    assert env.helpdesk[RECEIVED] == []
    assert env.record(request_id)["reason"] == "no_route"


async def test_a_vendor_key_opens_no_admin_route(env: Env) -> None:
    routes = env.admin_routes()
    assert len(routes) >= 10  # the whole API, not an empty list that passes trivially
    for method, path in routes:
        async with env.session.request(method, env.gw.admin_url(path), headers=bearer(env.keys["acme"]),
                                       json={"contract": "acme"}) as resp:
            body = await resp.json()
            assert (resp.status, body["error"]["reason"]) == (401, "unauthenticated"), (method, path)


async def test_the_auditor_reaches_only_the_audit_trail(env: Env) -> None:
    allowed, refused = [], []
    for method, path in env.admin_routes():
        async with env.session.request(method, env.gw.admin_url(path), headers=bearer(env.auditor),
                                       json={"format": "jsonl"}) as resp:
            await resp.read()
            (refused if resp.status == 403 else allowed).append((method, path))
    assert allowed and refused
    assert all(AUDITOR_PATHS.match(path) for _, path in allowed), allowed
    assert not [path for _, path in refused if AUDITOR_PATHS.match(path)], refused
    # No admin route at all reads the vault or the keys: the auditor cannot, and neither can an operator.
    assert not [p for _, p in env.admin_routes() if re.search(r"/(vault|keys|master|config)(/|$)", p)]


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # right id, wrong secret
    lambda t: t + "x",  # right id, longer secret
    lambda t: t.replace("ada_", "adu_"),  # a vendor-key shape
    lambda t: t[:18],  # id only
])
async def test_admin_tokens_are_checked_in_constant_time(
    env: Env, monkeypatch: pytest.MonkeyPatch, mangle: Any
) -> None:
    assert env.gw.runtime is not None
    tokens = AdminTokens(env.gw.runtime.db, env.gw.runtime.keyring)
    compared: list[tuple[bytes, bytes]] = []
    real = crypto.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(crypto.hmac, "compare_digest", spy)
    good = tokens.verify(env.operator)
    assert good is not None and good.role == "operator"
    assert len(compared) == 1 and all(len(x) == 32 for x in compared[0])  # HMAC-SHA256 digests, not text
    assert admin_tokens.constant_time_equal is crypto.constant_time_equal
    assert tokens.verify(mangle(env.operator)) is None


async def test_the_admin_listener_binds_to_loopback_by_default() -> None:
    defaults = Config.model_validate({"contracts": {"acme": {
        "vendor": "Acme", "policy_packs": ["baseline"],
        "routes": [{"name": "r", "prefix": "/r", "upstream": "http://127.0.0.1:9"}]}}}).listeners
    assert defaults == Listeners()
    assert (defaults.admin.host, defaults.admin.port) == ("127.0.0.1", 8081)
    assert Listener().host == "127.0.0.1"
    assert defaults.vendor.tls is None
