"""TLS and client certificates on the vendor listener, end to end, with a PKI the test makes itself.

A CA issues the gateway's server certificate (SAN IP 127.0.0.1) and one client certificate per contract;
a foreign CA issues a look-alike of acme's; the real CA also issues an expired one. Refusals in the
handshake reach nothing (the helpdesk receives no request); refusals after it are 403s, audited.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from pki import Issued, Pki, make_pki, tls_config

from harness import GatewayHarness, bearer, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-tls")]


# --- the gateway -------------------------------------------------------------------------------------


class Env:
    def __init__(self, gw: GatewayHarness, helpdesk: Any, pki: Pki) -> None:
        self.gw, self.helpdesk, self.pki = gw, helpdesk, pki
        self.keys = {c: gw.issue_key(c) for c in ("acme", "globex")}

    async def get(self, path: str, *, cert: Issued | None, key: str | None,
                  gw: GatewayHarness | None = None) -> tuple[int, Any, str]:
        gateway = gw or self.gw
        self.helpdesk[RECEIVED].clear()
        headers = bearer(self.keys[key]) if key else {}
        async with aiohttp.ClientSession() as session, session.get(
                gateway.url(path), headers=headers, ssl=self.pki.client(cert)) as resp:
            raw = await resp.read()
            return resp.status, json.loads(raw) if raw.startswith(b"{") else raw, resp.headers["X-Request-Id"]

    def record(self, request_id: str, gw: GatewayHarness | None = None) -> dict[str, Any]:
        return (gw or self.gw).record(request_id)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    server, app = await start_helpdesk()
    upstream = str(server.make_url("")).rstrip("/")
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    gw = await GatewayHarness(tmp_path_factory.mktemp("gateway"), tls_config(upstream, pki, require=False)).start()
    yield Env(gw, app, pki)
    await gw.close()
    await server.close()


async def test_the_listener_serves_tls_that_the_ca_bundle_verifies(env: Env) -> None:
    assert env.gw.url("/").startswith("https://127.0.0.1:")
    status, body, _ = await env.get("/helpdesk/api/tickets/1001", cert=env.pki.acme, key="acme")
    assert status == 200 and body["id"] == 1001
    assert len(env.helpdesk[RECEIVED]) == 1


async def test_a_client_that_does_not_trust_the_ca_refuses_the_server(env: Env) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.get(env.gw.url("/helpdesk/api/tickets"), headers=bearer(env.keys["acme"]),
                              ssl=ssl.create_default_context())


async def test_plain_http_to_the_tls_listener_reaches_nothing(env: Env) -> None:
    env.helpdesk[RECEIVED].clear()
    plain = env.gw.url("/helpdesk/api/tickets").replace("https://", "http://")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.get(plain, headers=bearer(env.keys["acme"])) as resp:
                await resp.read()
    assert env.helpdesk[RECEIVED] == []


async def test_a_request_the_parser_refuses_over_tls_gets_our_error_and_a_record(env: Env) -> None:
    """A CR/LF-injected header inside the TLS stream: the TLS listener answers like the plain one."""
    env.helpdesk[RECEIVED].clear()
    assert env.gw.vendor is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", env.gw.vendor.port, ssl=env.pki.client(env.pki.acme),
                                                   server_hostname="127.0.0.1")
    try:
        writer.write(b"GET /helpdesk/api/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                     + env.keys["acme"].encode() + b"\r\nX-Note: a\nX-Injected: 1\r\n\r\n")
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 20)  # the refusal closes the connection
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400", raw[:300]
    error = json.loads(body)["error"]
    assert error["reason"] == "http_malformed"
    assert f"X-Request-Id: {error['request_id']}".encode() in head
    record = env.record(error["request_id"])
    assert (record["decision"], record["reason"], record["contract"]) == ("blocked", "http_malformed", None)
    assert env.helpdesk[RECEIVED] == []


@pytest.mark.parametrize("who", ["foreign", "expired"])
async def test_a_certificate_the_ca_did_not_issue_or_out_of_date_is_refused_in_the_handshake(
    env: Env, who: str
) -> None:
    cert = getattr(env.pki, who)
    with pytest.raises(aiohttp.ClientError):
        await env.get("/helpdesk/api/tickets", cert=cert, key="acme")
    assert env.helpdesk[RECEIVED] == []


@pytest.mark.parametrize(
    ("what", "path", "cert", "key", "status", "reason", "audited_as"),
    [
        ("acme's certificate, globex's key", "/globex/api/tickets", "acme", "globex", 403,
         "certificate_wrong_contract", "globex"),
        ("globex's certificate, acme's key", "/helpdesk/api/tickets", "globex", "acme", 403,
         "certificate_wrong_contract", "acme"),
        ("acme's key without a certificate", "/helpdesk/api/tickets", None, "acme", 403,
         "client_certificate_required", "acme"),
        ("acme's key with a certificate bound to nobody", "/helpdesk/api/tickets", "unbound", "acme", 403,
         "client_certificate_required", "acme"),
        ("acme's certificate and key on globex's route", "/globex/api/tickets", "acme", "acme", 403,
         "wrong_contract", "acme"),
        ("a certificate alone is not a credential", "/helpdesk/api/tickets", "acme", None, 401,
         "unauthenticated", None),
    ],
)
async def test_refusals_after_the_handshake_are_audited_and_forward_nothing(
    env: Env, what: str, path: str, cert: str | None, key: str | None, status: int, reason: str,
    audited_as: str | None,
) -> None:
    got, body, request_id = await env.get(path, cert=getattr(env.pki, cert) if cert else None, key=key)
    assert (got, body["error"]["reason"]) == (status, reason), what
    assert env.helpdesk[RECEIVED] == []
    record = env.record(request_id)
    assert (record["decision"], record["reason"], record["contract"]) == ("blocked", reason, audited_as)
    if audited_as is not None:
        assert record["credential_id"].startswith("k_")
    assert env.pki.acme.sha256 not in json.dumps(record)


@pytest.mark.parametrize(("cert", "key", "path"), [("acme", "acme", "/helpdesk/api/tickets/1002"),
                                                   ("globex", "globex", "/globex/api/tickets/1002")])
async def test_each_contracts_certificate_reaches_its_own_routes(env: Env, cert: str, key: str, path: str) -> None:
    status, body, request_id = await env.get(path, cert=getattr(env.pki, cert), key=key)
    assert status == 200 and body["id"] == 1002
    record = env.record(request_id)
    assert (record["decision"], record["contract"]) == ("forwarded", key)


async def test_require_client_cert_refuses_a_client_without_one_in_the_handshake(
    env: Env, tmp_path: Path
) -> None:
    upstream = env.gw.config_data["contracts"]["acme"]["routes"][0]["upstream"].rstrip("/")
    strict = await GatewayHarness(tmp_path / "strict", tls_config(upstream, env.pki, require=True)).start()
    try:
        key = strict.issue_key("acme")
        for cert in (None, env.pki.foreign):
            env.helpdesk[RECEIVED].clear()
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.ClientError):
                    async with session.get(strict.url("/helpdesk/api/tickets"), headers=bearer(key),
                                           ssl=env.pki.client(cert)) as resp:
                        await resp.read()
            assert env.helpdesk[RECEIVED] == []
        acme = env.pki.client(env.pki.acme)
        async with aiohttp.ClientSession() as session, session.get(
                strict.url("/helpdesk/api/tickets/1003"), headers=bearer(key), ssl=acme) as resp:
            assert resp.status == 200
    finally:
        await strict.close()
