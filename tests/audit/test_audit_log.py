"""The writer: append, head, checkpoints, the sink, failing closed, threads."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from audit_support import StepClock, event

from gateway.audit import GENESIS, AuditEvent, AuditLog, verify_store
from gateway.audit.checkpoint import verify_statement
from gateway.audit.record import record_hash
from gateway.errors import AuditError
from gateway.keys.keyring import KeyRing
from gateway.store import Database


def test_append_returns_the_stored_record(log: AuditLog) -> None:
    assert log.head() == (0, GENESIS)
    first = log.append(event(1))
    second = log.append(event(2))
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["prev_hash"] == GENESIS and second["prev_hash"] == first["hash"]
    body = {k: v for k, v in second.items() if k not in ("prev_hash", "hash")}
    assert record_hash(second["prev_hash"], body) == second["hash"]
    assert first["time"] == "2019-01-01T00:01:00.000000Z"
    assert first["latency_us"] == 12500
    assert log.head() == (2, second["hash"])


def test_checkpoint_signs_the_head(log: AuditLog) -> None:
    log.append(event())
    statement = log.checkpoint()
    assert (statement["seq"], statement["hash"]) == log.head()
    verify_statement(statement, log.public_keys(), "checkpoint")
    assert log.latest_checkpoint() == statement


def test_checkpoint_due(log: AuditLog, clock: StepClock) -> None:
    assert not log.checkpoint_due(60)  # empty chain: nothing to sign
    log.append(event())
    assert log.checkpoint_due(60)  # never checkpointed
    log.checkpoint()
    assert not log.checkpoint_due(0)  # head has not moved
    log.append(event())
    assert not log.checkpoint_due(3600, clock.moment)
    assert log.checkpoint_due(3600, clock.moment + timedelta(hours=2))


def test_sink_sees_committed_records_only(db: Database, keyring: KeyRing) -> None:
    seen: list[tuple[int, bool]] = []

    def sink(record: Any) -> None:
        found: list[bool] = []

        def look() -> None:  # another thread has its own connection: it sees only committed data
            with db.transaction() as tx:
                found.append(tx.fetchone("SELECT 1 FROM audit_records WHERE seq = ?", (record["seq"],)) is not None)

        t = threading.Thread(target=look)
        t.start()
        t.join()
        seen.append((record["seq"], found[0]))

    log = AuditLog(db, keyring, sink=sink)
    log.append(event())
    assert seen == [(1, True)]


def test_failing_sink_never_fails_the_append_and_is_recorded_once_per_outage(log: AuditLog) -> None:
    state = {"fail": True}

    def sink(record: Any) -> None:
        if state["fail"]:
            raise ConnectionError("SIEM down")

    log.sink = sink
    log.append(event(1))
    log.append(event(2))
    actions = _actions(log)
    assert actions == ["proxy", "audit.sink-failed", "proxy"]
    state["fail"] = False
    log.append(event(3))
    state["fail"] = True
    log.append(event(4))
    assert _actions(log)[3:] == ["proxy", "proxy", "audit.sink-failed"]
    assert verify_store(log.db, log.public_keys()).ok


def _actions(log: AuditLog) -> list[str]:
    import json

    with log.db.transaction() as tx:
        return [json.loads(r[0])["action"] for r in tx.fetchall("SELECT body FROM audit_records ORDER BY seq")]


@pytest.mark.parametrize(
    "sabotage",
    [
        "DROP TABLE audit_records",
        "DELETE FROM audit_head",
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    ],
)
def test_fails_closed_when_the_record_cannot_be_written(log: AuditLog, sabotage: str) -> None:
    log.append(event())
    with log.db.transaction(write=True) as tx:
        tx.execute(sabotage)
    with pytest.raises(AuditError) as info:
        log.append(event())
    assert info.value.reason == "audit_write_failed"


def test_a_batch_is_all_or_nothing(log: AuditLog) -> None:
    log.append(event())
    head = log.head()
    with log.db.transaction(write=True) as tx:  # a squatter at the position the batch's 2nd record needs
        tx.execute("INSERT INTO audit_records (seq, time, prev_hash, hash, body) VALUES (3, 'x', 'x', 'x', '{}')")
    with pytest.raises(AuditError):
        log.append_many([event(2), event(3)])
    assert log.head() == head
    with log.db.transaction() as tx:
        assert tx.fetchone("SELECT COUNT(*) FROM audit_records") == (2,)


def test_threads_share_one_log(log: AuditLog) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                log.append(event(n * 100 + i))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert log.head()[0] == 200
    report = verify_store(log.db, log.public_keys())
    assert report.ok, report.problems
    assert (report.first_seq, report.last_seq, report.records) == (1, 200, 200)


def test_append_takes_events_only(log: AuditLog) -> None:
    with pytest.raises(TypeError):
        log.append({"kind": "request"})  # type: ignore[arg-type]
    assert AuditEvent(kind="admin", action="keys.rotate").decision == "done"
