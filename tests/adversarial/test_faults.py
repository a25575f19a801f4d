"""Faults: what the vendor sees, what reached the helpdesk, and what the store holds afterwards.

One gateway for the module (real SQLite behind :class:`faulty_store.FaultyDatabase`, a recognizer plugin
that raises on ``BOOMNOW``), on the helpdesk route that protects request bodies. A hanging recognizer is
in ``test_analyzer_hang.py``, with a gateway of its own (it replaces the inspection workers).
After every fault the store must be whole: SQLite's integrity check passes, the audit chain verifies,
and every vault row decrypts. Disk full on a real (tmpfs) file system is in ``test_disk_full.py``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from adversarial_support import (
    LIAR_RECEIVED,
    assert_store_whole,
    audit_records,
    build_request,
    captured_logs,
    liar_app,
    send_raw,
)
from aiohttp.test_utils import TestServer
from faulty_store import LOCKED, FaultyDatabase

import harness
from gateway.runtime import Runtime
from harness import GatewayHarness, gateway_config, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("adversarial-faults")]

COMMENTS = "/helpdesk/api/tickets/1001/comments"


@dataclass
class Rig:
    gw: GatewayHarness
    store: FaultyDatabase
    helpdesk: Any
    liar: Any
    key: str

    @property
    def runtime(self) -> Runtime:
        assert self.gw.runtime is not None
        return self.gw.runtime

    def forwarded(self) -> list[Any]:
        return list(self.helpdesk[RECEIVED]) + list(self.liar[LIAR_RECEIVED])

    def clear(self) -> None:
        self.helpdesk[RECEIVED].clear()
        self.liar[LIAR_RECEIVED].clear()

    async def comment(self, text: str) -> tuple[int, str | None, str | None]:
        """POST a comment; return (status, reason, request id)."""
        body = json.dumps({"author": "Agent 7", "body": text}).encode()
        response = await send_raw(self.gw.vendor.port, build_request(  # type: ignore[union-attr]
            "POST", COMMENTS, key=self.key, body=body, headers=[("Content-Type", "application/json")]))
        return response.status, response.reason, response.headers.get("x-request-id")

    def record(self, request_id: str | None) -> dict[str, Any] | None:
        found = [r for r in audit_records(self.store) if r["request_id"] == request_id and r["action"] == "proxy"]
        return found[0] if found else None


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    helpdesk_server, helpdesk = await start_helpdesk()
    liar = liar_app()
    liar_server = TestServer(liar, host="127.0.0.1", port=0)
    await liar_server.start_server()
    config = gateway_config(str(helpdesk_server.make_url("")).rstrip("/"))
    config["plugins"] = ["fault_recognizer"]
    config["inspection"]["timeout_seconds"] = 10
    route = config["contracts"]["acme"]["routes"][0]
    route["protect"] = "request"
    route["timeouts"] = {"connect_seconds": 2, "read_seconds": 1}
    config["contracts"]["acme"]["routes"].append({
        "name": "flaky", "prefix": "/flaky", "upstream": str(liar_server.make_url("")).rstrip("/") + "/",
        "methods": ["GET"], "protect": "response"})
    wrapped: list[FaultyDatabase] = []
    real_open = harness.open_runtime

    def open_faulty(*args: Any, **kwargs: Any) -> Runtime:
        rt = real_open(*args, **kwargs)
        wrapped.append(FaultyDatabase(rt.db))
        rt.db = wrapped[-1]  # type: ignore[assignment]
        return rt

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(harness, "open_runtime", open_faulty)
        gw = await GatewayHarness(tmp_path_factory.mktemp("faults"), config).start()
    try:
        yield Rig(gw, wrapped[0], helpdesk, liar, gw.issue_key("acme"))
    finally:
        await gw.close()
        await liar_server.close()
        await helpdesk_server.close()


@pytest.fixture(autouse=True)
def healed(rig: Rig) -> Any:
    rig.clear()
    yield
    rig.store.down = False
    rig.store.fail(None)
    assert_store_whole(rig.runtime)


def person() -> str:
    """A fresh e-mail address per message (tokenized: a new vault row) and a card number (masked)."""
    return f"Write to margaret.{uuid.uuid4().hex[:8]}@example.com, card 4111 1111 1111 1111."


# --- upstream ---------------------------------------------------------------------------------------


async def test_upstream_slow(rig: Rig) -> None:
    response = await send_raw(rig.gw.vendor.port, build_request(  # type: ignore[union-attr]
        "GET", "/helpdesk/api/slow?seconds=3", key=rig.key))
    assert (response.status, response.reason) == (504, "upstream_timeout")
    record = rig.record(response.headers["x-request-id"])
    assert record is not None and record["decision"] == "failed"


async def test_upstream_resets_mid_body(rig: Rig) -> None:
    response = await send_raw(rig.gw.vendor.port, build_request(  # type: ignore[union-attr]
        "GET", "/flaky/reset", key=rig.key))
    assert (response.status, response.reason) == (502, "upstream_unreachable")
    assert b"margaret." not in response.raw
    assert rig.record(response.headers["x-request-id"]) is not None


# --- the analyzer -----------------------------------------------------------------------------------


async def test_analyzer_raises(rig: Rig) -> None:
    status, reason, request_id = await rig.comment("BOOMNOW " + person())
    assert (status, reason) == (500, "plugin_failed:fault_recognizer")
    assert rig.forwarded() == []
    assert rig.record(request_id)["reason"] == reason  # type: ignore[index]


# --- the store ---------------------------------------------------------------------------------------


async def test_store_locked_briefly_waits_and_succeeds(rig: Rig) -> None:
    """Another process holds the write lock for a second: SQLite's busy timeout absorbs it."""
    path = rig.runtime.config.store_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = asyncio.get_running_loop().call_later(1.0, lambda: holder.execute("COMMIT"))
    try:
        status, _, request_id = await rig.comment(person())
    finally:
        release.cancel()
        if holder.in_transaction:
            holder.execute("COMMIT")
        holder.close()
    assert status == 201
    assert rig.record(request_id)["decision"] == "forwarded"  # type: ignore[index]


async def test_store_locked_past_the_busy_timeout(rig: Rig) -> None:
    rig.store.fail(r"INSERT INTO vault", LOCKED)
    status, reason, request_id = await rig.comment(person())
    assert (status, reason) == (503, "store_unavailable")
    assert rig.forwarded() == []
    assert rig.record(request_id)["reason"] == "store_unavailable"  # type: ignore[index]


async def test_store_unreachable(rig: Rig) -> None:
    """Nothing can be checked or recorded: the caller gets 503 and the helpdesk nothing."""
    rig.store.down = True
    status, reason, _ = await rig.comment(person())
    assert (status, reason) == (503, "audit_write_failed")
    assert rig.forwarded() == []


async def test_disk_full_on_the_vault(rig: Rig) -> None:
    rig.store.fail(r"INSERT INTO vault")
    status, reason, request_id = await rig.comment(person())
    assert (status, reason) == (503, "store_unavailable")
    assert rig.forwarded() == []
    assert rig.record(request_id)["reason"] == "store_unavailable"  # type: ignore[index]


async def test_disk_full_everywhere(rig: Rig) -> None:
    rig.store.fail(r"INSERT INTO (vault|audit_records)")
    status, reason, _ = await rig.comment(person())
    assert (status, reason) == (503, "audit_write_failed")
    assert rig.forwarded() == []


async def test_audit_write_fails_before_anything_is_forwarded(rig: Rig) -> None:
    """The audit write fails: the helpdesk must not have received the message (no access without a record)."""
    rig.store.fail(r"INSERT INTO audit_records")
    status, reason, _ = await rig.comment("No personal data here, just a status update.")
    assert (status, reason) == (503, "audit_write_failed")
    assert rig.forwarded() == []


async def test_audit_write_fails_for_a_request_the_parser_refuses(rig: Rig) -> None:
    """No record for a malformed request: 503 under its request id (as for any request), logged without content."""
    rig.store.fail(r"INSERT INTO audit_records")
    data = build_request("GET", "/helpdesk/api/tickets", key=rig.key,
                         raw_headers=b"X-Note: Margaret Ellison\nX-Injected: 1\r\n")
    with captured_logs() as lines:
        response = await send_raw(rig.gw.vendor.port, data)  # type: ignore[union-attr]
    assert (response.status, response.reason) == (503, "audit_write_failed")
    request_id = response.headers["x-request-id"]
    assert response.json()["error"]["request_id"] == request_id
    events = [json.loads(line.removeprefix("aduana ")) for line in lines if line.startswith("aduana {")]
    assert [e["request_id"] for e in events if e["event"] == "audit_write_failed"] == [request_id]
    assert all("Margaret" not in line for line in lines) and b"Margaret" not in response.raw
    assert rig.store.failures > 0 and rig.forwarded() == []


async def test_a_client_that_hangs_up_after_forwarding_leaves_a_record(rig: Rig) -> None:
    """The upstream got the request; the vendor disconnects before the answer: the record must exist."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", rig.gw.vendor.port)  # type: ignore[union-attr]
    writer.write(build_request("GET", "/helpdesk/api/slow?seconds=0.8", key=rig.key))
    await writer.drain()
    for _ in range(50):
        if rig.forwarded():
            break
        await asyncio.sleep(0.05)
    writer.transport.abort()
    await asyncio.sleep(1.5)
    (received,) = rig.forwarded()
    assert rig.record(received["headers"]["X-Request-Id"]) is not None


async def test_faulty_store_is_really_in_the_path(rig: Rig) -> None:
    """Guard against a vacuous suite: the gateway's audit log writes through the wrapper (in any test order)."""
    assert isinstance(rig.runtime.db, FaultyDatabase) and Path(rig.runtime.db.url.removeprefix("sqlite:///")).exists()
    failures = rig.store.failures
    rig.store.fail(r"INSERT INTO audit_records")
    status, reason, _ = await rig.comment("No personal data here, just a status update.")
    assert (status, reason) == (503, "audit_write_failed")
    assert rig.store.failures > failures
