"""Several writer processes share one chain: it verifies, with sequence numbers 1..N, no gaps, no forks.

SQLite always runs (processes on one file). PostgreSQL (several replicas in production) runs when
``ADUANA_TEST_PG_URL`` names a server: the test works in a schema of its own and drops it after.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from audit_support import event

from gateway.audit import AuditLog, verify_store
from gateway.keys.keyring import KeyRing
from gateway.store import open_database
from gateway.store.migrations import migrate

WRITERS = 4
APPENDS = 50
PG_URL = os.environ.get("ADUANA_TEST_PG_URL")


def _writer(url: str, master_key: bytes, writer: int) -> None:
    db = open_database(url)
    try:
        log = AuditLog(db, KeyRing(db, master_key))
        for i in range(APPENDS):
            log.append(event(i, contract=f"w{writer}", request_id=f"{writer}-{i}"))
            if i % 20 == 19:
                log.checkpoint()  # checkpoints interleave with the other writers' appends
    finally:
        db.close()


@contextmanager
def _store(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    import psycopg

    assert PG_URL is not None
    schema = f"aduana_audit_test_{os.urandom(4).hex()}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.parametrize("kind", [
    "sqlite",
    pytest.param("postgresql", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not PG_URL, reason="set ADUANA_TEST_PG_URL to run against PostgreSQL"),
    ]),
])
def test_concurrent_writers_keep_one_chain(kind: str, tmp_path: Path) -> None:
    master_key = os.urandom(32)
    with _store(kind, tmp_path) as url:
        db = open_database(url)
        try:
            migrate(db)
            log = AuditLog(db, KeyRing(db, master_key))
            ctx = multiprocessing.get_context("spawn")
            procs = [ctx.Process(target=_writer, args=(url, master_key, w)) for w in range(WRITERS)]
            for p in procs:
                p.start()
            for p in procs:
                p.join(timeout=150)
            assert [p.exitcode for p in procs] == [0] * WRITERS

            total = WRITERS * APPENDS
            assert log.head()[0] == total
            with db.transaction() as tx:
                rows = tx.fetchall("SELECT seq, prev_hash, hash, body FROM audit_records ORDER BY seq")
            assert [r[0] for r in rows] == list(range(1, total + 1))  # no gaps, no duplicates
            assert all(rows[i][1] == rows[i - 1][2] for i in range(1, total))  # no forks
            ids = [json.loads(r[3])["request_id"] for r in rows]
            for w in range(WRITERS):  # every writer's records are there, in its own order
                assert [x for x in ids if x.startswith(f"{w}-")] == [f"{w}-{i}" for i in range(APPENDS)]
            report = verify_store(db, log.public_keys())
            assert report.ok, report.problems
            assert report.checkpoints == WRITERS * (APPENDS // 20)
        finally:
            db.close()
