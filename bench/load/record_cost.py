"""What one more audit record costs: the ``proxy.forwarding`` record the pipeline writes before forwarding.

    .venv/bin/python bench/load/record_cost.py [--records 400]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aduana-record-cost-") as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'aduana.db'}")
        try:
            migrate(db)
            audit = AuditLog(db, KeyRing(db, new_key()))
            for _ in range(20):  # warm the page cache and the statement cache
                audit.append(event())
            samples = []
            for _ in range(args.records):
                began = time.perf_counter()
                audit.append(event())
                samples.append((time.perf_counter() - began) * 1000)
        finally:
            db.close()
    samples.sort()

    def q(p: float) -> float:
        return round(samples[min(len(samples) - 1, int(p * len(samples)))], 3)

    print(json.dumps({"records": len(samples), "append_ms": {"p50": q(0.5), "p95": q(0.95), "p99": q(0.99)}}))


if __name__ == "__main__":
    main()
