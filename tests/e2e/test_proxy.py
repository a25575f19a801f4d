"""End to end over real HTTP on loopback: helpdesk ← gateway (SQLite) ← vendor client.

One gateway (and one inspection worker) serves the whole module; each test uses its own tickets.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from yarl import URL

from harness import HELPDESK_TOKEN, GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED, make_ticket
from helpdesk.app import STORE

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-proxy")]

TOKEN = re.compile(r"⟦[A-Z_]+_[0-9a-f]{12,32}⟧")

# Canary values: unique strings that must never reach the vendor, a log or a file the gateway wrote.
CANARY = {
    "name": "Evangelina Quispe-Marroquín",
    "email": "evangelina.canary@example.net",
    "phone": "+34 699 887 766",
    "dni": "48151623L",
    "iban": "ES76 2077 0024 0031 0257 5766",
    "card": "4929 1869 8521 0357",
}


def canary_ticket(ticket_id: int) -> dict[str, Any]:
    return make_ticket(
        ticket_id=ticket_id,
        subject="Consulta sobre mi factura",
        language="es",
        name=CANARY["name"],
        email=CANARY["email"],
        phone=CANARY["phone"],
        national_id=CANARY["dni"],
        iban=CANARY["iban"],
        card_number=CANARY["card"],
        address="Calle de Alcalá 99, 2º A, 28009 Madrid",
        body=(
            f"Hola:\n\nMe llamo {CANARY['name']} y mi DNI es {CANARY['dni']}. Pagué con la tarjeta "
            f"{CANARY['card']} y quiero la devolución en la cuenta {CANARY['iban']}. Llamadme al "
            f"{CANARY['phone']} o escribidme a {CANARY['email']}.\n\nUn saludo,\n{CANARY['name']}"
        ),
    )


def variants(value: str) -> set[str]:
    compact = re.sub(r"[\s.\-]", "", value)
    return {value, compact, value.lower(), compact.lower()}


class Env:
    def __init__(self, gateway: GatewayHarness, helpdesk_app: Any, session: aiohttp.ClientSession) -> None:
        self.gw = gateway
        self.helpdesk = helpdesk_app
        self.session = session
        self.key = gateway.issue_key("acme")
        self.other_key = gateway.issue_key("globex")

    def received(self) -> list[dict[str, Any]]:
        return list(self.helpdesk[RECEIVED])

    def clear(self) -> None:
        self.helpdesk[RECEIVED].clear()

    def add_ticket(self, ticket: dict[str, Any]) -> None:
        self.helpdesk[STORE].tickets[ticket["id"]] = ticket


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    server, app = await start_helpdesk()
    upstream = str(server.make_url("")).rstrip("/")
    directory = tmp_path_factory.mktemp("gateway")
    gateway = await GatewayHarness(directory, gateway_config(upstream)).start()
    async with aiohttp.ClientSession() as session:
        e = Env(gateway, app, session)
        e.add_ticket(canary_ticket(7001))
        yield e
    await gateway.close()
    await server.close()


async def call(env: Env, method: str, path: str, *, key: str | None = "acme", **kwargs: Any) -> tuple[int, Any, Any]:
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers.update(bearer(env.gw.keys.get(key, key)))
    # encoded=True: send the path exactly as written (the client must not normalize %2e%2e away).
    async with env.session.request(method, URL(env.gw.url(path), encoded=True), headers=headers, **kwargs) as resp:
        raw = await resp.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return resp.status, resp.headers, body


async def test_vendor_sees_tokens_and_masks_never_values(env: Env) -> None:
    status, headers, body = await call(env, "GET", "/helpdesk/api/tickets/7001")
    assert status == 200
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-Id"])
    text = json.dumps(body, ensure_ascii=False)
    for value in CANARY.values():
        for variant in variants(value):
            assert variant not in text, f"{variant!r} reached the vendor"
    assert TOKEN.fullmatch(body["requester"]["name"])
    assert body["requester"]["name"].startswith("⟦PERSON_")
    assert body["requester"]["email"].startswith("⟦EMAIL_ADDRESS_")
    # The card is masked to first 6 / last 4 (pci-dss), separators kept.
    assert body["payment"]["card_number"].startswith("4929 18") and body["payment"]["card_number"].endswith("0357")
    # Structure and non-personal values are preserved.
    assert body["id"] == 7001 and body["custom_fields"]["order_number"] == "ORD-TEST-0001"
    assert body["custom_fields"]["vip"] is False


async def test_same_value_same_token_across_fields(env: Env) -> None:
    _, _, body = await call(env, "GET", "/helpdesk/api/tickets/7001")
    name_token = body["requester"]["name"]
    assert name_token in body["body"], "the name in the free text gets the same token as the field"


async def test_vendor_never_holds_helpdesk_credentials(env: Env) -> None:
    env.clear()
    status, _, _ = await call(env, "GET", "/helpdesk/api/tickets")
    assert status == 200
    (received,) = env.received()
    assert received["headers"]["Authorization"] == f"Bearer {HELPDESK_TOKEN}"
    assert env.key not in json.dumps(received)
    assert re.fullmatch(r"[0-9a-f]{32}", received["headers"]["X-Request-Id"])


async def test_reply_with_token_reaches_helpdesk_with_real_value(env: Env) -> None:
    _, _, body = await call(env, "GET", "/helpdesk/api/tickets/7001")
    token = body["requester"]["name"]
    env.clear()
    status, _, stored = await call(env, "POST", "/helpdesk/api/tickets/7001/comments",
                                   json={"author": "Agent 7", "body": f"Hola {token}, ya está resuelto."})
    assert status == 201
    (received,) = env.received()
    assert f"Hola {CANARY['name']}, ya está resuelto." in received["body"]
    # The helpdesk echoes the stored comment: it goes back to the vendor protected again.
    assert CANARY["name"] not in json.dumps(stored, ensure_ascii=False)


async def test_token_in_query_is_restored_upstream(env: Env) -> None:
    _, _, body = await call(env, "GET", "/helpdesk/api/tickets/7001")
    token = body["requester"]["email"]
    env.clear()
    status, _, found = await call(env, "GET", "/helpdesk/api/customers", params={"email": token})
    assert status == 200
    assert env.received()[0]["query"]["email"] == CANARY["email"]
    assert found["email"] == token


async def test_another_contracts_token_is_left_as_is(env: Env) -> None:
    _, _, body = await call(env, "GET", "/helpdesk/api/tickets/7001")
    token = body["requester"]["name"]
    env.clear()
    status, _, _ = await call(env, "POST", "/globex/api/tickets/7001/comments", key="globex",
                              json={"author": "x", "body": f"Dear {token}"})
    assert status == 201
    assert f"Dear {token}" in env.received()[0]["body"]


@pytest.mark.parametrize(
    ("what", "method", "path", "key", "status", "reason"),
    [
        ("no key", "GET", "/helpdesk/api/tickets", None, 401, "unauthenticated"),
        ("bad key", "GET", "/helpdesk/api/tickets", "adu_k_0123456789ab_nope", 401, "unauthenticated"),
        ("not a bearer", "GET", "/helpdesk/api/tickets", "Basic Zm9vOmJhcg==", 401, "unauthenticated"),
        ("other contract's route", "GET", "/globex/api/tickets", "acme", 403, "wrong_contract"),
        ("method not allowed", "DELETE", "/helpdesk/api/tickets/1", "acme", 403, "method_not_allowed"),
        ("path not allowed", "GET", "/helpdesk/admin", "acme", 403, "path_not_allowed"),
        ("no route", "GET", "/nowhere", "acme", 404, "no_route"),
        ("traversal", "GET", "/helpdesk/api/tickets/%2e%2e/secrets", "acme", 400, "path_rejected"),
        ("encoded slash", "GET", "/helpdesk/api/tickets/1%2fcomments", "acme", 400, "path_rejected"),
    ],
)
async def test_refusals_are_json_with_request_id_and_forward_nothing(
    env: Env, what: str, method: str, path: str, key: str | None, status: int, reason: str
) -> None:
    env.clear()
    headers = {}
    if key is not None and key.startswith("Basic"):
        headers["Authorization"] = key
        key = None
    got, resp_headers, body = await call(env, method, path, key=key, headers=headers)
    assert got == status, body
    assert body["error"]["reason"] == reason
    assert body["error"]["request_id"] == resp_headers["X-Request-Id"]
    assert set(body["error"]) == {"reason", "message", "request_id"}
    assert env.received() == []


async def test_blocked_content_type_is_not_released(env: Env) -> None:
    status, _, body = await call(env, "GET", "/helpdesk/api/tickets/1001/attachment")
    assert status == 415 and body["error"]["reason"] == "content_type_blocked"


@pytest.mark.parametrize(
    ("what", "kwargs", "status", "reason"),
    [
        ("over the size limit", {"data": b'{"body": "' + b"x" * (300 * 1024) + b'"}',
                                 "headers": {"Content-Type": "application/json"}}, 413, "body_too_large"),
        ("compressed body", {"data": b"\x1f\x8b\x08\x00", "headers": {"Content-Type": "application/json",
                                                                      "Content-Encoding": "gzip"}},
         415, "compressed_body"),
        ("content type not allowed", {"data": b"\x00\x01", "headers": {"Content-Type": "application/zip"}},
         415, "content_type_blocked"),
        ("malformed JSON", {"data": b'{"author": ', "headers": {"Content-Type": "application/json"}},
         400, "malformed_body"),
        ("invalid UTF-8", {"data": b'{"author": "\xff\xfe"}', "headers": {"Content-Type": "application/json"}},
         400, "invalid_encoding"),
        ("duplicate keys", {"data": b'{"body": "a", "body": "b"}', "headers": {"Content-Type": "application/json"}},
         400, "json_duplicate_key"),
    ],
)
async def test_bodies_that_cannot_be_inspected_are_not_forwarded(
    env: Env, what: str, kwargs: dict[str, Any], status: int, reason: str
) -> None:
    env.clear()
    got, _, body = await call(env, "POST", "/helpdesk/api/tickets/7001/comments", **kwargs)
    assert got == status, body
    assert body["error"]["reason"] == reason
    assert env.received() == []


async def test_health_readiness_and_metrics(env: Env) -> None:
    async with env.session.get(env.gw.admin_url("/healthz")) as resp:
        assert resp.status == 200
    async with env.session.get(env.gw.admin_url("/readyz")) as resp:
        assert resp.status == 200
        assert (await resp.json())["checks"] == {"analyzer": True, "keys": True, "store": True}
    await call(env, "GET", "/helpdesk/api/tickets/7001")
    await call(env, "GET", "/helpdesk/api/tickets/7001", key=None)  # this test's own refusal to count
    async with env.session.get(env.gw.admin_url("/metrics")) as resp:
        text = await resp.text()
    assert 'aduana_requests_total{contract="acme",outcome="forwarded",route="helpdesk"}' in text
    assert re.search(r'aduana_findings_total\{action="tokenize",entity_type="PERSON"\} [1-9]', text)
    assert 'aduana_blocked_total{reason="unauthenticated"}' in text
    assert "aduana_request_seconds_bucket" in text
    # The inspection pool, read at the scrape: the fetch above went through a worker.
    assert re.search(r"^aduana_inspection_worker_calls_total [1-9]", text, re.M)
    assert re.search(r"^aduana_inspection_messages_total [1-9]", text, re.M)
    assert re.search(r"^aduana_inspection_workers [1-9]", text, re.M)
    assert "aduana_inspection_queued_messages 0.0" in text
    assert "aduana_inspection_pool_replacements_total 0.0" in text


async def test_no_canary_in_logs_or_files(env: Env) -> None:
    # Exercise every path with canaries first (fetch, reply, query, refusals).
    await call(env, "GET", "/helpdesk/api/tickets/7001")
    await call(env, "GET", "/helpdesk/api/tickets/7001/summary.txt")
    await call(env, "GET", "/helpdesk/api/customers", params={"email": CANARY["email"]})
    await call(env, "POST", "/helpdesk/api/tickets/7001/comments", json={"author": CANARY["name"], "body": "x"})
    await call(env, "GET", "/helpdesk/api/tickets/7001", key=None,
               headers={"Authorization": f"Bearer {CANARY['email']}"})
    files = env.gw.written_files()
    assert any(p.name == "aduana.log" for p in files) and any(p.name == "aduana.db" for p in files)
    for path in files:
        data = path.read_bytes()
        for value in CANARY.values():
            for variant in variants(value):
                assert variant.encode() not in data, f"{variant!r} found in {path.name}"


async def test_written_files_stay_inside_the_gateway_directory(env: Env) -> None:
    assert all(Path(p).is_relative_to(env.gw.directory) for p in env.gw.written_files())
