"""End to end: a contract terminated while the gateway serves, in front of the example helpdesk.

After ``aduana contract terminate acme``: acme's vendor is refused (403 ``contract_terminated``, audited), a
token it kept stays a token, no file under the gateway's directory holds anything of acme (canaries,
tokens, ciphertext, wrapped keys, blind indexes), and globex keeps working untouched.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from click.testing import CliRunner

from gateway.audit import AuditLog
from gateway.audit.verify import verify_store
from gateway.cli.contract import command as contract_cli
from gateway.inspect.document import Part
from gateway.inspect.transform import restore_parts
from gateway.lifecycle import certificate as certs
from gateway.lifecycle.handover import generate_x25519, load_private_key, open_bundle
from gateway.lifecycle.state import forget_ended_keys
from gateway.vault import Vault
from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED, make_ticket
from helpdesk.app import STORE

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-termination")]

CANARY = {"name": "Evangelina Quispe-Marroquín", "email": "evangelina.canary@example.net", "dni": "48151623L",
          "iban": "ES76 2077 0024 0031 0257 5766"}
OTHER = {"name": "Bartholomew Okonkwo-Lindqvist", "email": "bartholomew.other@example.org"}
TOKEN = re.compile(r"⟦[A-Z_]+_[0-9a-f]{12,32}⟧")


def ticket(ticket_id: int, values: dict[str, str]) -> dict[str, Any]:
    return make_ticket(ticket_id=ticket_id, subject="Consulta sobre mi factura", language="es", name=values["name"],
                       email=values["email"], national_id=values.get("dni"), iban=values.get("iban"),
                       body=f"Hola, soy {values['name']}, escribidme a {values['email']}. Gracias.")


def variants(value: str) -> set[str]:
    compact = re.sub(r"[\s.\-]", "", value)
    return {value, compact, value.lower(), compact.lower()}


@dataclass
class Terminated:
    gw: GatewayHarness
    helpdesk: Any
    session: aiohttp.ClientSession
    acme_key: str
    globex_key: str
    acme_tokens: list[str]
    globex_name_token: str
    secrets: list[bytes] = field(default_factory=list)
    certificate: dict[str, Any] = field(default_factory=dict)
    bundle: Path = Path()
    company_key: bytes = b""


async def call(env: Terminated, method: str, path: str, key: str, **kwargs: Any) -> tuple[int, Any]:
    async with env.session.request(method, env.gw.url(path), headers=bearer(key), **kwargs) as resp:
        return resp.status, json.loads(await resp.read())


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Terminated]:
    server, app = await start_helpdesk()
    upstream = str(server.make_url("")).rstrip("/")
    gw = await GatewayHarness(tmp_path_factory.mktemp("gateway"), gateway_config(upstream)).start()
    outside = tmp_path_factory.mktemp("company")  # the handover bundle and company key live off the gateway
    app[STORE].tickets[7001] = ticket(7001, CANARY)
    app[STORE].tickets[7002] = ticket(7002, OTHER)
    async with aiohttp.ClientSession() as session:
        env = Terminated(gw, app, session, gw.issue_key("acme"), gw.issue_key("globex"), [], "")
        status, body = await call(env, "GET", "/helpdesk/api/tickets/7001", env.acme_key)
        assert status == 200
        env.acme_tokens = sorted(set(TOKEN.findall(json.dumps(body, ensure_ascii=False))))
        status, body = await call(env, "GET", "/globex/api/tickets/7002", env.globex_key)
        assert status == 200
        env.globex_name_token = body["requester"]["name"]
        assert gw.runtime is not None
        with gw.runtime.db.transaction() as tx:
            env.secrets = [bytes(r[0]) for r in tx.fetchall(
                "SELECT ciphertext FROM vault WHERE contract = 'acme' UNION ALL SELECT blind_index FROM vault"
                " WHERE contract = 'acme' UNION ALL SELECT wrapped FROM data_keys WHERE contract = 'acme'")]
        private, public = generate_x25519()
        (outside / "company.pub").write_bytes(public)
        env.company_key, env.bundle = private, outside / "acme.bundle"
        cert_path = outside / "acme.certificate.json"
        result = CliRunner().invoke(contract_cli, [
            "terminate", "acme", "--yes", "--config", str(gw.config_path), "--certificate-out", str(cert_path),
            "--handover-to", str(outside / "company.pub"), "--handover-out", str(env.bundle)])
        assert result.exit_code == 0, result.output
        env.certificate = json.loads(cert_path.read_text())
        yield env
    await gw.close()
    await server.close()


async def test_the_terminated_vendor_is_refused_and_audited(env: Terminated) -> None:
    env.helpdesk[RECEIVED].clear()
    status, body = await call(env, "GET", "/helpdesk/api/tickets/7001", env.acme_key)
    assert status == 403 and body["error"]["reason"] == "contract_terminated"
    assert env.helpdesk[RECEIVED] == []
    assert env.gw.runtime is not None
    with env.gw.runtime.db.transaction() as tx:
        (last,) = tx.fetchall("SELECT body FROM audit_records ORDER BY seq DESC LIMIT 1")
    record = json.loads(last[0])
    assert (record["contract"], record["decision"], record["reason"]) == ("acme", "blocked", "contract_terminated")
    assert record["credential_id"] == env.acme_key[4:18]


async def test_the_running_gateway_lets_go_of_the_contracts_keys(env: Terminated) -> None:
    # The gateway's eviction task does this every few seconds; called here to not wait for it.
    assert env.gw.runtime is not None
    keyring = env.gw.runtime.keyring
    assert keyring.holds("globex")
    forget_ended_keys(env.gw.runtime.db, keyring)
    assert not keyring.holds("acme") and keyring.holds("globex")


async def test_the_other_contract_keeps_working(env: Terminated) -> None:
    status, body = await call(env, "GET", "/globex/api/tickets/7002", env.globex_key)
    assert status == 200 and body["requester"]["name"] == env.globex_name_token
    env.helpdesk[RECEIVED].clear()
    status, _ = await call(env, "POST", "/globex/api/tickets/7002/comments", env.globex_key,
                           json={"author": "agent", "body": f"Hola {env.globex_name_token}"})
    assert status == 201
    assert f"Hola {OTHER['name']}" in env.helpdesk[RECEIVED][0]["body"]


async def test_a_token_the_vendor_kept_is_left_as_it_is(env: Terminated) -> None:
    assert env.gw.runtime is not None
    vault = Vault(env.gw.runtime.db, env.gw.runtime.keyring)  # the serving gateway's own key ring
    assert env.acme_tokens and all(vault.restore("acme", t) is None for t in env.acme_tokens)
    part = Part(path="$.body", text=f"Dear {env.acme_tokens[0]}")
    outcome = restore_parts([part], vault, "acme")
    assert part.replacement is None and outcome.unknown_tokens == 1


async def test_nothing_of_the_contract_is_left_in_any_file(env: Terminated) -> None:
    files = env.gw.written_files()
    assert any(p.name == "aduana.db" for p in files)
    needles = [v.encode() for value in CANARY.values() for v in variants(value)]
    needles += [t.encode() for t in env.acme_tokens] + env.secrets
    assert len(env.secrets) >= 3
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {path.name}"


async def test_the_certificate_and_the_chain_verify(env: Terminated) -> None:
    assert env.gw.runtime is not None
    db, keyring = env.gw.runtime.db, env.gw.runtime.keyring
    log = AuditLog(db, keyring)
    certs.verify(env.certificate, log.public_keys())
    assert certs.store_problems(db, env.certificate) == ([], [])
    assert env.certificate["destroyed"]["records"]["vault"] == len(env.secrets) // 2 - 1  # 2 keys, a row has 2 blobs
    report = verify_store(db, log.public_keys())
    assert report.ok, report.problems


async def test_the_company_can_still_read_the_old_tokens(env: Terminated) -> None:
    with env.bundle.open("rb") as fh:
        table = {e["token"]: e["value"] for e in open_bundle(fh, load_private_key(env.company_key))}
    assert set(env.acme_tokens) <= set(table)
    assert CANARY["name"] in table.values()
