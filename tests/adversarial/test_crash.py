"""SIGKILL of ``aduana serve`` under load, then a restart: what survives.

The gateway runs as a real subprocess (two vendors, both directions, SQLite) in front of the example
helpdesk; ``bench/load`` sends mixed requests, a few of them to an upstream endpoint that takes a second,
so requests are in flight between forwarding and auditing when the whole process group gets SIGKILL.
After a restart: the gateway serves again, ``aduana audit verify --store`` exits 0, the vault decrypts,
every answer the vendor got has a record, and (through the ``proxy.forwarding`` record) so does every request
the helpdesk received, matched by the ``X-Request-Id`` the gateway sets upstream.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from adversarial_support import ROOT, assert_store_whole

from gateway.config import load_config
from gateway.runtime import open_runtime
from harness import start_helpdesk
from helpdesk import RECEIVED

sys.path.insert(0, str(ROOT / "bench"))
from load.client import Stats, run_load
from load.setup import cli, config_for, free_port, prepare, serve

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("adversarial-crash")]


@dataclass
class Crash:
    config: Path
    stats: Stats
    received_ids: list[str]
    records: dict[str, list[str]]  # request id -> actions of its records
    verify_rc: int
    verify_out: str
    after_restart: int  # status of a request to the restarted gateway


async def wait_ready(admin: str, process: subprocess.Popen[bytes], timeout: float = 150) -> None:
    """Wait for ``/readyz``; fail at once (with the gateway's stderr) if the process exits first."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"aduana serve exited {process.returncode} before it was ready")
            try:
                async with session.get(admin + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError("the gateway did not become ready")


def kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def crash(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Crash]:
    server, app = await start_helpdesk()
    vendor_port, admin_port = free_port(), free_port()
    data = config_for(2, str(server.make_url("")), vendor_port=vendor_port, admin_port=admin_port, workers=1)
    config, keys = prepare(tmp_path_factory.mktemp("crash"), data)
    admin, vendor = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{vendor_port}"
    first = serve(config)
    second = None
    try:
        await wait_ready(admin, first)
        stop = asyncio.Event()
        load = asyncio.create_task(run_load(vendor, keys, total=800, concurrency=12, stop=stop, timeout=20))
        deadline = time.monotonic() + 60
        # Kill while a slow request is in flight: forwarded, not yet answered, not yet audited.
        while time.monotonic() < deadline and not (
            len(app[RECEIVED]) >= 60 and app[RECEIVED][-1]["path"] == "/api/slow"
        ):
            await asyncio.sleep(0.01)
        kill_group(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        stop.set()
        stats = await load
        received_ids = [r["headers"]["X-Request-Id"] for r in app[RECEIVED]]

        second = serve(config)
        await wait_ready(admin, second)
        async with aiohttp.ClientSession() as session, session.get(
            vendor + "/v0/api/tickets/1001", headers={"Authorization": f"Bearer {keys[0]}"}
        ) as resp:
            after = resp.status
        kill_group(second.pid, signal.SIGTERM)
        second.wait(timeout=60)
        done = cli(config, "audit", "verify", "--store", check=False)
        with closing(sqlite3.connect(config.parent / "aduana.db")) as conn:
            rows = conn.execute("SELECT body FROM audit_records").fetchall()
        records: dict[str, list[str]] = {}
        for (body,) in rows:
            record = json.loads(body)
            if record.get("request_id"):
                records.setdefault(record["request_id"], []).append(record["action"])
        yield Crash(config, stats, received_ids, records, done.returncode, done.stdout + done.stderr, after)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                kill_group(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        await server.close()


async def test_the_kill_happened_under_load(crash: Crash) -> None:
    assert len(crash.received_ids) >= 60
    assert crash.stats.by_status()[0] > 0, "no request was cut off by the kill"


async def test_the_gateway_restarts_and_the_chain_verifies(crash: Crash) -> None:
    assert crash.after_restart == 200
    assert crash.verify_rc == 0, crash.verify_out
    rt = open_runtime(load_config(crash.config))
    try:
        assert_store_whole(rt)
    finally:
        rt.close()


async def test_every_answer_the_vendor_got_has_a_record(crash: Crash) -> None:
    answered = [a.request_id for a in crash.stats.answers if a.status]
    assert answered and all(rid in crash.records for rid in answered)


async def test_nothing_was_forwarded_without_a_record(crash: Crash) -> None:
    missing = [rid for rid in crash.received_ids if rid not in crash.records]
    assert missing == [], f"{len(missing)} of {len(crash.received_ids)} forwarded requests have no record"
