"""The audit chain on both stores under concurrent writers in threads (processes: tests/audit, which
runs against PostgreSQL too because tests/pg.py exports ADUANA_TEST_PG_URL)."""

from __future__ import annotations

import threading

from gateway.audit import AuditEvent, AuditLog, verify_store
from gateway.keys.keyring import KeyRing
from gateway.store import Database

THREADS = 4
APPENDS = 15


def test_concurrent_appends_keep_one_gap_free_chain(db: Database, master: bytes) -> None:
    log = AuditLog(db, KeyRing(db, master))
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        own = AuditLog(db, KeyRing(db, master))
        barrier.wait()
        try:
            for i in range(APPENDS):
                own.append(AuditEvent(kind="admin", action="test.append", request_id=f"{w}-{i}",
                                      details={"writer": w, "i": i}))
                if i == APPENDS // 2:
                    own.checkpoint()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    total = THREADS * APPENDS
    assert log.head()[0] == total
    with db.transaction() as tx:
        seqs = [int(s) for (s,) in tx.fetchall("SELECT seq FROM audit_records ORDER BY seq")]
    assert seqs == list(range(1, total + 1))
    report = verify_store(db, log.public_keys())
    assert report.ok, report.problems
    assert report.checkpoints == THREADS
