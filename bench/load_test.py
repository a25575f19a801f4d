"""A bounded load test on loopback: 8 vendors, mixed requests, then the audit trail is checked.

    .venv/bin/python bench/load_test.py [--vendors 8] [--requests 3000] [--concurrency 32] [--out FILE]

Starts the example helpdesk (in this process) and ``aduana serve`` (a subprocess, SQLite, two inspection
workers) on 127.0.0.1, sends ``--requests`` mixed requests (see ``bench/load/client.py``), stops the
gateway with SIGTERM, then checks what ``docs/reliability.md`` promises under load:

- no 5xx (no fault is injected, so any 5xx is a bug) and no request without an answer;
- every answer's ``X-Request-Id`` has exactly one final audit record (no lost record);
- every request the helpdesk received has an audit record;
- ``aduana audit verify --store`` exits 0.

Prints the figures as JSON (and writes them to ``--out``); exits 1 if a check fails. Bounded: at most
``--requests`` requests, each with a 60-second client timeout; nothing leaves the loopback interface.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "examples")]

from load.client import run_load  # noqa: E402
from load.setup import HELPDESK_TOKEN, cli, config_for, free_port, prepare, serve  # noqa: E402

from helpdesk import RECEIVED, make_app  # noqa: E402


async def wait_ready(admin: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(admin + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError("the gateway did not become ready")


async def main(args: argparse.Namespace) -> int:
    helpdesk = make_app(api_token=HELPDESK_TOKEN)
    server = TestServer(helpdesk, host="127.0.0.1", port=0)
    await server.start_server()
    vendor_port, admin_port = free_port(), free_port()
    data = config_for(args.vendors, str(server.make_url("")), vendor_port=vendor_port, admin_port=admin_port,
                      workers=args.workers)
    with tempfile.TemporaryDirectory(prefix="aduana-load-") as tmp:
        config, keys = prepare(Path(tmp), data)
        process = serve(config)
        try:
            await wait_ready(f"http://127.0.0.1:{admin_port}")
            await run_load(f"http://127.0.0.1:{vendor_port}", keys, total=min(50, args.requests), concurrency=4)
            helpdesk[RECEIVED].clear()
            with closing(sqlite3.connect(Path(tmp) / "aduana.db")) as conn:
                (mark,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_records").fetchone()
            stats = await run_load(f"http://127.0.0.1:{vendor_port}", keys, total=args.requests,
                                   concurrency=args.concurrency, seed=args.seed)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=120)
        verify = cli(config, "audit", "verify", "--store", check=False)
        with closing(sqlite3.connect(Path(tmp) / "aduana.db")) as conn:
            rows = conn.execute("SELECT body FROM audit_records WHERE seq > ?", (mark,)).fetchall()
        size = sum(p.stat().st_size for p in Path(tmp).glob("aduana.db*"))
    await server.close()

    final: dict[str, int] = {}
    recorded: set[str] = set()
    failures: dict[str, int] = {}
    for (body,) in rows:
        record = json.loads(body)
        rid = record.get("request_id")
        if rid:
            recorded.add(rid)
            if record["action"] == "proxy":
                final[rid] = final.get(rid, 0) + 1
                if record["decision"] == "failed":
                    failures[record["reason"]] = failures.get(record["reason"], 0) + 1
    answers = stats.answers
    server_errors = [a for a in answers if a.status >= 500]
    unanswered = [a for a in answers if a.status == 0]
    lost = [a for a in answers if a.status and final.get(a.request_id or "", 0) != 1]
    received = [r["headers"]["X-Request-Id"] for r in helpdesk[RECEIVED]]
    forwarded_without_record = [rid for rid in received if rid not in recorded]
    figures = {
        **stats.summary(),
        "vendors": args.vendors,
        "concurrency": args.concurrency,
        "inspection_workers": args.workers,
        "forwarded_to_helpdesk": len(received),
        "audit_records_written": len(rows),
        "failed_by_reason": dict(sorted(failures.items())),
        "store_bytes_after": size,
        "checks": {
            "no_5xx": not server_errors,
            "every_request_answered": not unanswered,
            "one_final_record_per_answer": not lost,
            "every_forwarded_request_recorded": not forwarded_without_record,
            "audit_verify_exit_code": verify.returncode,
        },
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    ok = not (server_errors or unanswered or lost or forwarded_without_record) and verify.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendors", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="inspection worker processes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", help="also write the figures (JSON) to this file")
    sys.exit(asyncio.run(main(parser.parse_args())))
