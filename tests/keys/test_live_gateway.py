"""Keys and records under a running gateway (SQLite, real HTTP on loopback, the real CLI in subprocesses).

- A tampered vault record: the request that needs it fails closed (500 ``record_integrity``), nothing
  reaches the helpdesk, the failure is audited; the gateway keeps serving everything else.
- ``aduana keys rotate`` and ``aduana keys rotate-master`` while requests flow: no request fails; new
  writes move to the new data key version; a contract first used after the master rotation is refused
  until the gateway's key provider yields the new master, then served.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from gateway_process import run_cli

from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED, make_ticket
from helpdesk.app import STORE

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-live-keys"),
              pytest.mark.timeout(480)]


class Env:
    def __init__(self, gw: GatewayHarness, helpdesk: Any, session: aiohttp.ClientSession) -> None:
        self.gw, self.helpdesk, self.session = gw, helpdesk, session
        self.keys = {"acme": gw.issue_key("acme"), "globex": gw.issue_key("globex")}

    def add_ticket(self, ticket_id: int, email: str) -> None:
        self.helpdesk[STORE].tickets[ticket_id] = make_ticket(ticket_id=ticket_id, email=email,
                                                              body=f"Write to {email} please.")

    async def call(self, method: str, path: str, contract: str = "acme", **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.gw.url(path), headers=bearer(self.keys[contract]),
                                        **kwargs) as resp:
            return resp.status, await resp.json(content_type=None)

    async def email_token(self, ticket_id: int, prefix: str = "/helpdesk") -> str:
        status, body = await self.call("GET", f"{prefix}/api/tickets/{ticket_id}",
                                       contract="acme" if prefix == "/helpdesk" else "globex")
        assert status == 200, body
        return str(body["requester"]["email"])

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        assert self.gw.runtime is not None
        with self.gw.runtime.db.transaction() as tx:
            return tx.fetchall(query, params)

    def last_audit(self) -> dict[str, Any]:
        (body,) = self.sql("SELECT body FROM audit_records ORDER BY seq DESC LIMIT 1")[0]
        return dict(json.loads(body))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    server, app = await start_helpdesk()
    config = gateway_config(str(server.make_url("")).rstrip("/"))
    gw = await GatewayHarness(tmp_path_factory.mktemp("live"), config).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Env(gw, app, session)
    finally:
        await gw.close()
        await server.close()


async def test_a_tampered_record_fails_that_request_closed_and_is_audited(env: Env) -> None:
    env.add_ticket(8201, "tamper.target@example.org")
    env.add_ticket(8202, "still.fine@example.org")
    bad, good = await env.email_token(8201), await env.email_token(8202)
    path = env.gw.directory / "state" / "aduana.db"
    with sqlite3.connect(path) as raw:  # an attacker (or a bad disk) edits the file under the gateway
        (ct,) = raw.execute("SELECT ciphertext FROM vault WHERE token = ?", (bad,)).fetchone()
        flipped = ct[:20] + bytes([ct[20] ^ 0x40]) + ct[21:]
        raw.execute("UPDATE vault SET ciphertext = ? WHERE token = ?", (flipped, bad))
    raw.close()
    env.helpdesk[RECEIVED].clear()
    status, body = await env.call("POST", "/helpdesk/api/tickets/8201/comments",
                                  json={"author": "A", "body": f"To {bad}"})
    assert (status, body["error"]["reason"]) == (500, "record_integrity")
    assert "ciphertext" not in json.dumps(body) and set(body["error"]) == {"reason", "message", "request_id"}
    assert env.helpdesk[RECEIVED] == []
    record = env.last_audit()
    assert (record["decision"], record["reason"], record["request_id"]) == ("failed", "record_integrity",
                                                                            body["error"]["request_id"])
    # nothing else is affected
    status, _ = await env.call("POST", "/helpdesk/api/tickets/8202/comments",
                               json={"author": "A", "body": f"To {good}"})
    assert status == 201 and "still.fine@example.org" in env.helpdesk[RECEIVED][-1]["body"]
    # putting the original bytes back (a restore from backup) makes the record readable again
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE vault SET ciphertext = ? WHERE token = ?", (ct, bad))
    raw.close()
    status, _ = await env.call("POST", "/helpdesk/api/tickets/8201/comments",
                               json={"author": "A", "body": f"To {bad}"})
    assert status == 201 and "tamper.target@example.org" in env.helpdesk[RECEIVED][-1]["body"]


async def _traffic(env: Env, stop: asyncio.Event, statuses: list[int], first_id: int) -> None:
    """Fetch new tickets (new values: vault inserts) and reply with their tokens (restores) until stopped."""
    n = 0
    while not stop.is_set():
        ticket_id = first_id + n
        env.add_ticket(ticket_id, f"flow{ticket_id}@example.org")
        status, body = await env.call("GET", f"/helpdesk/api/tickets/{ticket_id}")
        statuses.append(status)
        if status == 200:
            token = body["requester"]["email"]
            status, _ = await env.call("POST", f"/helpdesk/api/tickets/{ticket_id}/comments",
                                       json={"author": "A", "body": f"Reply to {token}"})
            statuses.append(status)
        n += 1
        await asyncio.sleep(0.05)


async def _cli_while_serving(env: Env, first_id: int, *args: str) -> tuple[str, list[int]]:
    stop, statuses = asyncio.Event(), []
    traffic = asyncio.create_task(_traffic(env, stop, statuses, first_id))
    await asyncio.sleep(0.5)
    try:
        done = await asyncio.get_running_loop().run_in_executor(None, lambda: run_cli(env.gw.config_path, *args))
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await traffic
    return done.stdout + done.stderr, statuses


async def test_rotating_a_data_key_while_serving_fails_no_request(env: Env) -> None:
    old = {t: None for (t,) in env.sql("SELECT token FROM vault WHERE contract = 'acme'")}
    output, statuses = await _cli_while_serving(env, 9000, "keys", "rotate", "acme")
    assert "rotated acme" in output and "to v2" in output
    assert len(statuses) >= 10 and set(statuses) <= {200, 201}, statuses
    assert env.sql("SELECT COUNT(*) FROM vault WHERE contract = 'acme' AND key_version < 2") == [(0,)]
    env.add_ticket(9999, "after.rotation@example.org")
    token = await env.email_token(9999)
    assert env.sql("SELECT key_version FROM vault WHERE token = ?", (token,)) == [(2,)]
    env.add_ticket(9998, "before.rotation@example.org")
    for known in list(old)[:3]:  # records written before the rotation still restore
        env.helpdesk[RECEIVED].clear()
        status, _ = await env.call("POST", "/helpdesk/api/tickets/9998/comments",
                                   json={"author": "A", "body": f"x {known}"})
        assert status == 201
        assert known not in env.helpdesk[RECEIVED][-1]["body"]


async def test_rotating_the_master_key_while_serving_fails_no_request(env: Env) -> None:
    state = env.gw.directory / "state"
    run_cli(env.gw.config_path, "keys", "init", "--out", str(state / "new.key"))
    output, statuses = await _cli_while_serving(env, 9500, "keys", "rotate-master", "--new-source",
                                                f"file:{state / 'new.key'}")
    assert "re-wrapped" in output
    assert len(statuses) >= 10 and set(statuses) <= {200, 201}, statuses

    # globex was never used: its keys must be made now, and this gateway still holds the old master
    env.helpdesk[STORE].tickets[9600] = make_ticket(ticket_id=9600, email="globex.first@example.org")
    status, body = await env.call("GET", "/globex/api/tickets/9600", contract="globex")
    assert (status, body["error"]["reason"]) == (503, "key_unavailable")
    assert (env.last_audit()["decision"], env.last_audit()["reason"]) == ("failed", "key_unavailable")
    assert env.sql("SELECT COUNT(*) FROM data_keys WHERE contract = 'globex'") == [(0,)]

    # the operator puts the new key where keys.master_key points: the running gateway picks it up
    (state / "master.key").write_bytes((state / "new.key").read_bytes())
    status, body = await env.call("GET", "/globex/api/tickets/9600", contract="globex")
    assert status == 200 and body["requester"]["email"].startswith("⟦EMAIL_ADDRESS_")
    assert {m for (m,) in env.sql("SELECT DISTINCT master_key_id FROM data_keys")} == {
        env.sql("SELECT value FROM store_meta WHERE name = 'master_key_id'")[0][0]}
    env.add_ticket(9601, "acme.after@example.org")  # and the contracts it knew carry on
    status, _ = await env.call("GET", "/helpdesk/api/tickets/9601")
    assert status == 200
