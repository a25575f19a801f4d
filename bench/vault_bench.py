"""Vault throughput and latency in one process: tokenize a new value, tokenize a known value, restore.

    python bench/vault_bench.py                      # a fresh SQLite store in a temp dir (WAL, as served)
    python bench/vault_bench.py --store postgresql://user@host/db -n 2000
    python bench/vault_bench.py --json               # machine-readable, for docs/performance.md

- ``tokenize (new)``: HMACs, a blind-index lookup that misses, AES-GCM sealing and an insert
  (committed without waiting for the disk: see ``gateway/vault`` rule 5).
- ``tokenize (known)``: HMACs and a blind-index lookup that hits (what repeat values cost).
- ``restore``: a lookup by token, AES-GCM verification and decryption.

Each operation is one call from one thread on a warm key ring, as the gateway's store threads make them.
Values are synthetic (``Person 000123``). A PostgreSQL run works in a schema of its own, dropped after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gateway.keys.keyring import KeyRing  # noqa: E402
from gateway.store import open_database  # noqa: E402
from gateway.store.migrations import migrate  # noqa: E402
from gateway.vault import Vault  # noqa: E402


@contextmanager
def store(url: str | None) -> Iterator[str]:
    if url is None:
        with tempfile.TemporaryDirectory(prefix="aduana-vault-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    if not url.startswith("postgresql"):
        yield url
        return
    import psycopg

    schema = f"vault_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def measure(label: str, op: Callable[[int], object], n: int) -> dict[str, float | str | int]:
    samples = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter_ns()
        op(i)
        samples.append(time.perf_counter_ns() - t0)
    elapsed = time.perf_counter() - started
    samples.sort()
    return {
        "operation": label,
        "n": n,
        "per_second": round(n / elapsed),
        "mean_us": round(statistics.fmean(samples) / 1000, 1),
        "p50_us": round(samples[n // 2] / 1000, 1),
        "p99_us": round(samples[min(n - 1, int(n * 0.99))] / 1000, 1),
    }


def run(url: str, n: int) -> list[dict[str, float | str | int]]:
    db = open_database(url)
    try:
        migrate(db)
        vault = Vault(db, KeyRing(db, os.urandom(32)))
        vault.tokenize("bench", "PERSON", "warm-up")  # keys created and cached, connections open
        tokens: list[str] = []
        def new(i: int) -> None:
            tokens.append(vault.tokenize("bench", "PERSON", f"Person {i:06d}"))

        results = [measure("tokenize (new)", new, n)]
        results.append(measure("tokenize (known)", lambda i: vault.tokenize("bench", "PERSON", f"Person {i:06d}"), n))
        results.append(measure("restore", lambda i: vault.restore("bench", tokens[i]), n))
        assert vault.restore("bench", tokens[-1]) == f"Person {n - 1:06d}"
        return results
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--store", help="Store URL (default: a fresh SQLite file in a temp dir).")
    parser.add_argument("-n", type=int, default=5000, help="Operations per measurement (default 5000).")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    args = parser.parse_args()
    with store(args.store) as url:
        results = run(url, args.n)
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if args.json:
        print(json.dumps({"store": kind, "results": results}, indent=2))
        return
    print(f"vault benchmark, {kind}, one process, {args.n} operations each")
    print(f"{'operation':<18} {'per second':>11} {'mean µs':>9} {'p50 µs':>8} {'p99 µs':>8}")
    for r in results:
        print(f"{r['operation']:<18} {r['per_second']:>11} {r['mean_us']:>9} {r['p50_us']:>8} {r['p99_us']:>8}")


if __name__ == "__main__":
    main()
