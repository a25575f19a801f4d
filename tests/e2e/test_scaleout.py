"""Scale-out, end to end over loopback.

1. Two gateways (separate listeners, same config) share one PostgreSQL store and one master key: a token
   one mints is restored by the other, and the same value tokenized concurrently through both gets one
   token and one vault row, never two.
2. ``aduana serve --workers 2`` runs two processes on one port (SO_REUSEPORT): requests are answered by
   two different PIDs; a worker that dies is logged and not restarted; SIGTERM stops the rest cleanly; if
   every worker dies the supervisor exits non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from click.testing import CliRunner
from gateway_process import Served, free_port, pid_alive, run_cli, write_config
from pg import schema_url

from gateway.cli import main
from gateway.keys.provider import init_key_file
from harness import GatewayHarness, bearer, gateway_config, start_helpdesk
from helpdesk import RECEIVED, make_ticket
from helpdesk.app import STORE

# Gateways in subprocesses each load the detection models: generous under a loaded CI machine.
pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-scaleout"),
              pytest.mark.timeout(480)]

TOKEN = re.compile(r"⟦[A-Z_]+_[0-9a-f]{12,32}⟧")


class Pair:
    def __init__(self, a: GatewayHarness, b: GatewayHarness, helpdesk: Any, session: aiohttp.ClientSession) -> None:
        self.a, self.b, self.helpdesk, self.session = a, b, helpdesk, session
        self.key = a.issue_key("acme")  # issued through one, valid on both: one store

    def add_ticket(self, ticket_id: int, **values: Any) -> None:
        self.helpdesk[STORE].tickets[ticket_id] = make_ticket(ticket_id=ticket_id, **values)

    async def get(self, gw: GatewayHarness, path: str) -> tuple[int, Any]:
        async with self.session.get(gw.url(path), headers=bearer(self.key)) as resp:
            return resp.status, await resp.json(content_type=None)

    async def post(self, gw: GatewayHarness, path: str, body: dict[str, str]) -> int:
        async with self.session.post(gw.url(path), headers=bearer(self.key), json=body) as resp:
            return resp.status

    def vault_tokens(self) -> list[str]:
        """Every token row of the contract (a list: a duplicate row would show twice)."""
        assert self.a.runtime is not None
        with self.a.runtime.db.transaction() as tx:
            return [str(t) for (t,) in tx.fetchall("SELECT token FROM vault WHERE contract = 'acme'")]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory, pg_base_url: str) -> AsyncIterator[Pair]:
    with schema_url(pg_base_url, "scaleout") as url:
        server, app = await start_helpdesk()
        upstream = str(server.make_url("")).rstrip("/")
        shared = tmp_path_factory.mktemp("scaleout")
        init_key_file(shared / "master.key")
        config = gateway_config(upstream, store={"url": url}, keys={"master_key": f"file:{shared / 'master.key'}"})
        a = await GatewayHarness(shared / "a", config).start()
        b = await GatewayHarness(shared / "b", config).start()
        try:
            async with aiohttp.ClientSession() as session:
                yield Pair(a, b, app, session)
        finally:
            await a.close()
            await b.close()
            await server.close()


@pytest.mark.postgres
async def test_a_token_minted_by_one_gateway_is_restored_by_the_other(pair: Pair) -> None:
    pair.add_ticket(8101, name="Griselda Ocampo-Ferrer", email="griselda.scaleout@example.org")
    status, body = await pair.get(pair.a, "/helpdesk/api/tickets/8101")
    assert status == 200
    name_token = body["requester"]["name"]
    assert TOKEN.fullmatch(name_token)
    pair.helpdesk[RECEIVED].clear()
    assert await pair.post(pair.b, "/helpdesk/api/tickets/8101/comments",
                           {"author": "Agent", "body": f"Hola {name_token}"}) == 201
    assert "Hola Griselda Ocampo-Ferrer" in pair.helpdesk[RECEIVED][-1]["body"]
    # and the other way round
    status, again = await pair.get(pair.b, "/helpdesk/api/tickets/8101")
    assert again["requester"]["name"] == name_token and again["requester"]["email"] == body["requester"]["email"]


@pytest.mark.postgres
async def test_concurrent_tokenization_through_both_gives_one_token(pair: Pair) -> None:
    pair.add_ticket(8102, name="Margaret Thompson", email="margaret.race@example.org",
                    phone="+34 611 223 344", body="Please call Margaret Thompson back today.")
    before = pair.vault_tokens()
    gateways = [pair.a, pair.b] * 10
    results = await asyncio.gather(*(pair.get(gw, "/helpdesk/api/tickets/8102") for gw in gateways))
    assert all(status == 200 for status, _ in results)
    token_sets = [frozenset(TOKEN.findall(json.dumps(body, ensure_ascii=False))) for _, body in results]
    assert len(set(token_sets)) == 1, "every response carries the very same tokens"
    (tokens,) = set(token_sets)
    assert any(t.startswith("⟦EMAIL_ADDRESS_") for t in tokens) and len(tokens) >= 2
    after = pair.vault_tokens()
    assert len(after) == len(set(after)), "one vault row per token"
    assert set(after) - set(before) == tokens - set(before), "one vault row per value, never two"
    assert len(after) - len(before) == len(tokens - set(before))


# --- aduana serve --workers 2 ----------------------------------------------------------------------------


async def _pids(session: aiohttp.ClientSession, admin: str, want: int, seconds: float = 240) -> set[int]:
    """PIDs seen answering ``/healthz`` over fresh connections (the kernel spreads them over workers).

    Polls until ``want`` PIDs answered or ``seconds`` passed: each worker loads the models at its own pace.
    """
    seen: set[int] = set()
    deadline = asyncio.get_running_loop().time() + seconds
    while len(seen) < want and asyncio.get_running_loop().time() < deadline:
        async with session.get(admin + "/healthz", headers={"Connection": "close"}) as resp:
            seen.add(int((await resp.json())["pid"]))
        await asyncio.sleep(0.05)
    return seen


async def test_serve_with_two_workers_shares_one_port(tmp_path: Path) -> None:
    server, _ = await start_helpdesk()
    upstream = str(server.make_url("")).rstrip("/")
    vendor_port, admin_port = free_port(), free_port()
    config = write_config(tmp_path / "gw", upstream, "sqlite:///aduana.db", vendor_port=vendor_port,
                          admin_port=admin_port)
    runner = CliRunner()
    for args in (["keys", "init"], ["store", "migrate"]):
        assert runner.invoke(main, [*args, "--config", str(config)]).exit_code == 0
    api_key = run_cli(config, "vendor", "issue-key", "acme").stdout.strip()
    served = Served(config, workers=2)
    admin, vendor = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{vendor_port}"
    try:
        await served.wait_ready(admin)
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            pids = await _pids(session, admin, 2)
            assert len(pids) == 2 and served.process.pid not in pids, served.stderr()
            for _ in range(6):  # the vendor listener is shared too, and every worker serves
                async with session.get(vendor + "/helpdesk/api/tickets/1001", headers=bearer(api_key)) as resp:
                    assert resp.status == 200
                    assert "⟦PERSON_" in await resp.text()
            for _ in range(4):  # whichever worker takes it answers a parser refusal with our error and a record
                request_id = await _refused_by_the_parser(vendor_port, api_key)
                assert _audit_reasons(config.parent / "aduana.db", request_id) == ["http_malformed"]

            victim, survivor = sorted(pids)
            os.kill(victim, signal.SIGKILL)
            await asyncio.sleep(1.5)
            assert served.process.poll() is None, "one dead worker does not stop the others"
            assert await _pids(session, admin, 2, seconds=3) == {survivor}
        assert served.stop(signal.SIGTERM) == 0
        assert not pid_alive(survivor)
        log = (config.parent / "aduana.log").read_text(encoding="utf-8")
        died = [json.loads(line) for line in log.splitlines() if '"worker_died"' in line]
        assert died and died[0]["pid"] == victim and died[0]["exitcode"] == -signal.SIGKILL
        assert '"worker_stopped"' in log
    finally:
        served.stop(signal.SIGKILL)
        await server.close()


async def _refused_by_the_parser(port: int, api_key: str) -> str:
    """Send a request with a CR/LF-injected header on a raw socket; return the request id of the JSON 400."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /helpdesk/api/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                     + api_key.encode() + b"\r\nX-Note: a\nX-Injected: 1\r\n\r\n")
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 20)  # the refusal closes the connection
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400", raw[:300]
    error = json.loads(body)["error"]
    assert error["reason"] == "http_malformed" and f"X-Request-Id: {error['request_id']}".encode() in head
    return str(error["request_id"])


def _audit_reasons(db: Path, request_id: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        bodies = [json.loads(b) for (b,) in conn.execute("SELECT body FROM audit_records ORDER BY seq")]
    return [b["reason"] for b in bodies if b.get("request_id") == request_id]


async def test_the_supervisor_exits_non_zero_when_every_worker_dies(tmp_path: Path) -> None:
    import socket

    vendor_port, admin_port = free_port(), free_port()
    config = write_config(tmp_path / "gw", "http://127.0.0.1:9", "sqlite:///aduana.db", vendor_port=vendor_port,
                          admin_port=admin_port)
    runner = CliRunner()
    for args in (["keys", "init"], ["store", "migrate"]):
        assert runner.invoke(main, [*args, "--config", str(config)]).exit_code == 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:  # no SO_REUSEPORT: workers cannot bind
        squatter.bind(("127.0.0.1", vendor_port))
        squatter.listen()
        served = Served(config, workers=2)
        try:
            code = await asyncio.get_running_loop().run_in_executor(None, served.process.wait, 300)
        finally:
            served.stop(signal.SIGKILL)
    assert code == 1
    log = (config.parent / "aduana.log").read_text(encoding="utf-8")
    assert log.count('"worker_died"') == 2 and '"all_workers_died"' in log


async def test_workers_need_fixed_ports(tmp_path: Path) -> None:
    config = write_config(tmp_path / "gw", "http://127.0.0.1:9", "sqlite:///aduana.db", vendor_port=0,
                          admin_port=0)
    runner = CliRunner()
    for args in (["keys", "init"], ["store", "migrate"]):
        assert runner.invoke(main, [*args, "--config", str(config)]).exit_code == 0
    result = runner.invoke(main, ["serve", "--workers", "2", "--config", str(config)])
    assert result.exit_code == 2 and "fixed listener ports" in result.output
