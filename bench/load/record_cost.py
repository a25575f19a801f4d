"""What one more audit record costs: the ``proxy.forwarding`` record the pipeline writes before forwarding.

    .venv/bin/python bench/load/record_cost.py [--records 400] [--dir PATH] [--synchronous full|normal]

Appends ``--records`` request records of the pipeline's shape to a fresh SQLite store (WAL,
``synchronous=FULL``, the gateway's settings) from one thread, as the gateway's store pool does, and
prints the per-append latency (p50/p95/p99, ms) as JSON. Each append is one durable transaction, so
this is the latency the forwarding record adds to every forwarded request (the outcome record was
already paid before). Bounded and local: a temporary directory, no network.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from gateway.audit import AuditEvent, AuditLog
from gateway.keys.crypto import new_key
from gateway.keys.keyring import KeyRing
from gateway.store import open_database
from gateway.store.migrations import migrate


def event() -> AuditEvent:
    return AuditEvent(
        kind="request", action="proxy.forwarding", decision="done", reason="forwarding",
        request_id=uuid.uuid4().hex, contract="vendor-1", vendor="Vendor 1", credential_id="k-0123456789ab",
        route="helpdesk-1", method="POST", path_template="/v1/api/tickets/{id}/comments",
        entities={"EMAIL_ADDRESS": {"tokenize": 1}, "CREDIT_CARD": {"mask": 1}},
        policy=[{"name": n, "version": "1.0.0", "digest": "0" * 64} for n in ("gdpr", "pci-dss")],
        bytes_in=2048, bytes_out=0, latency_ms=3.0, details={"restored": 0, "unknown_tokens": 0},
    )


def append_latencies(directory: Path, records: int = 400, synchronous: str = "full") -> dict[str, Any]:
    """Per-append latency (ms) of ``records`` audit appends to a fresh SQLite store in ``directory``.

    The store sits on ``directory``'s disk: give it the gateway's state directory to measure the
    commit the gateway pays there.
    """
    with tempfile.TemporaryDirectory(prefix="aduana-record-cost-", dir=directory) as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'aduana.db'}", sqlite_synchronous=synchronous)
        try:
            migrate(db)
            audit = AuditLog(db, KeyRing(db, new_key()))
            for _ in range(20):  # warm the page cache and the statement cache
                audit.append(event())
            samples = []
            for _ in range(records):
                began = time.perf_counter()
                audit.append(event())
                samples.append((time.perf_counter() - began) * 1000)
        finally:
            db.close()
    samples.sort()

    def q(p: float) -> float:
        return round(samples[min(len(samples) - 1, int(p * len(samples)))], 3)

    return {"records": len(samples), "synchronous": synchronous,
            "append_ms": {"p50": q(0.5), "p95": q(0.95), "p99": q(0.99)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="Put the store on this folder's disk (default: the temp folder).")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full")
    args = parser.parse_args()
    print(json.dumps(append_latencies(args.dir, args.records, args.synchronous)))


if __name__ == "__main__":
    main()
