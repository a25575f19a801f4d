"""End to end: a gateway that remembers verified API keys still refuses a key revoked, or a contract terminated,
by another process — on the very next request, before anything is forwarded.

A real gateway (SQLite, one inspection worker) in front of the example helpdesk, with a cache lifetime of a
minute so that every request after a key's first is answered from the cache; revocation and termination
go through a store connection of their own, as ``aduana`` run in another process does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from gateway.credentials import Credentials
from gateway.proxy.message import Principal
from gateway.proxy.pipeline import FORWARDING_ACTION, Pipeline
from gateway.server.app import STATE
from gateway.store import open_database
from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED, make_ticket
from helpdesk.app import STORE

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-authcache")]


@dataclass
class Env:
    gw: GatewayHarness
    helpdesk: Any
    session: aiohttp.ClientSession
    pipeline: Pipeline
    #: One entry per verification that went to the store (``Pipeline._authenticate``), by contract.
    verifications: list[str] = field(default_factory=list)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    server, app = await start_helpdesk()
    config = gateway_config(str(server.make_url("")).rstrip("/"), auth={"credential_cache_seconds": 60})
    gw = await GatewayHarness(tmp_path_factory.mktemp("gateway"), config).start()
    assert gw.vendor is not None
    pipeline = gw.vendor.app[STATE].pipeline
    assert pipeline is not None and pipeline.auth_cache.ttl == 60
    for n in (8101, 8102, 8103):
        app[STORE].tickets[n] = make_ticket(ticket_id=n, subject="Printer", name="Dana Whitfield",
                                            email="dana@example.org", body="The printer is jammed again.")
    async with aiohttp.ClientSession() as session:
        env = Env(gw, app, session, pipeline)
        authenticate = pipeline._authenticate

        def counted(*args: Any) -> Principal:
            principal = authenticate(*args)
            env.verifications.append(principal.credential_id)
            return principal

        pipeline._authenticate = counted  # type: ignore[method-assign]
        yield env
    await gw.close()
    await server.close()


async def fetch(env: Env, key: str, path: str) -> tuple[int, dict[str, Any]]:
    async with env.session.get(env.gw.url(path), headers=bearer(key)) as resp:
        return resp.status, json.loads(await resp.read())


def records(gw: GatewayHarness, request_id: str) -> list[dict[str, Any]]:
    assert gw.runtime is not None
    with gw.runtime.db.transaction() as tx:
        rows = tx.fetchall("SELECT body FROM audit_records ORDER BY seq")
    return [r for r in (json.loads(b) for (b,) in rows) if r.get("request_id") == request_id]


def elsewhere(gw: GatewayHarness, change: Callable[[Any], None]) -> None:
    """Change the store through a connection of its own, as ``aduana`` run in another process does."""
    assert gw.runtime is not None
    db = open_database(gw.runtime.config.store_url, create=False)
    try:
        change(db)
    finally:
        db.close()


async def test_a_remembered_key_is_not_verified_in_the_store_again(env: Env) -> None:
    key = env.gw.issue_key("acme")
    for ticket in (8101, 8102, 8101):
        status, _ = await fetch(env, key, f"/helpdesk/api/tickets/{ticket}")
        assert status == 200
    assert env.verifications.count(key[4:18]) == 1


async def test_a_remembered_key_revoked_elsewhere_is_refused_before_forwarding(env: Env) -> None:
    key = env.gw.issue_key("acme")
    key_id = key[4:18]
    assert (await fetch(env, key, "/helpdesk/api/tickets/8101"))[0] == 200
    assert env.gw.runtime is not None
    keyring = env.gw.runtime.keyring
    elsewhere(env.gw, lambda db: Credentials(db, keyring).revoke(key_id))
    env.helpdesk[RECEIVED].clear()
    status, body = await fetch(env, key, "/helpdesk/api/tickets/8102")
    assert (status, body["error"]["reason"]) == (401, "unauthenticated")
    assert env.helpdesk[RECEIVED] == []  # nothing forwarded
    assert env.verifications.count(key_id) == 1  # refused by the re-check, not by a new verification
    (record,) = records(env.gw, body["error"]["request_id"])  # and no proxy.forwarding record
    assert (record["action"], record["decision"], record["reason"]) == ("proxy", "blocked", "unauthenticated")
    # Forgotten: the next try is verified in the store again, and refused there.
    status, body = await fetch(env, key, "/helpdesk/api/tickets/8102")
    assert (status, body["error"]["reason"]) == (401, "unauthenticated")
    assert env.helpdesk[RECEIVED] == []


async def test_a_remembered_key_of_a_contract_terminated_elsewhere_gets_403(env: Env) -> None:
    key = env.gw.issue_key("globex")
    assert (await fetch(env, key, "/globex/api/tickets/8103"))[0] == 200
    now = datetime.now(UTC).isoformat()

    def terminating(db: Any) -> None:
        with db.transaction(write=True) as tx:
            tx.execute("INSERT INTO contract_state (contract, status, updated_at) VALUES ('globex', 'terminating', ?)",
                       (now,))

    elsewhere(env.gw, terminating)
    env.helpdesk[RECEIVED].clear()
    status, body = await fetch(env, key, "/globex/api/tickets/8103")
    assert (status, body["error"]["reason"]) == (403, "contract_terminated")
    assert env.helpdesk[RECEIVED] == []
    recs = records(env.gw, body["error"]["request_id"])
    assert [r["action"] for r in recs] == ["proxy"] and FORWARDING_ACTION not in {r["action"] for r in recs}
    assert (recs[0]["contract"], recs[0]["credential_id"]) == ("globex", key[4:18])
    assert env.verifications.count(key[4:18]) == 1  # the refused request was a cache hit
