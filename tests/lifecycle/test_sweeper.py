"""The retention sweeper: what it deletes, what a legal hold keeps, how every deletion is counted once."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from lifecycle_support import POLICIES, Clock, Seeded, audit_bodies, count, policy, rows

from gateway.audit import AuditEvent, AuditLog
from gateway.audit.verify import verify_store
from gateway.keys.keyring import KeyRing
from gateway.lifecycle.hold import place_hold, release_hold
from gateway.lifecycle.sweeper import Sweeper, SweepReport, claim_run, created_stamp, run_periodically
from gateway.lifecycle.termination import Termination
from gateway.store import Database

NOW = datetime.now(UTC)


def age(db: Database, contract: str, days: int, limit: int) -> None:
    """Make ``limit`` of ``contract``'s vault entries ``days`` old."""
    with db.transaction(write=True) as tx:
        tokens = [r[0] for r in tx.fetchall("SELECT token FROM vault WHERE contract = ? ORDER BY token LIMIT ?",
                                            (contract, limit))]
        for token in tokens:
            tx.execute("UPDATE vault SET created_at = ? WHERE contract = ? AND token = ?",
                       (created_stamp(NOW - timedelta(days=days)), contract, token))


@pytest.mark.parametrize(
    ("period", "days_old", "aged", "deleted"),
    [
        ("P90D", 91, 5, 5),      # expired
        ("P90D", 89, 5, 0),      # not yet
        ("P30D", 31, 13, 13),    # every entry
        ("P1Y", 200, 13, 0),     # a longer period
        (None, 5000, 13, 0),     # no period: kept until termination
    ],
)
def test_vault_entries_older_than_the_period_are_deleted(db: Database, log: AuditLog, seeded: Seeded,
                                                         period: str | None, days_old: int, aged: int,
                                                         deleted: int) -> None:
    age(db, "acme", days_old, aged)
    age(db, "globex", days_old, aged)
    policies = {"acme": policy("acme", vault=period), "globex": policy("globex", vault=None)}
    report = Sweeper(log, policies, batch=4).sweep_at_time(NOW)
    assert [(c.contract, c.classes["vault"].count) for c in report.contracts] == [("acme", deleted), ("globex", 0)]
    assert count(db, "vault", "acme") == 13 - deleted and count(db, "vault", "globex") == 13
    records = [r for r in audit_bodies(db, "retention.sweep") if r["contract"] == "acme"]
    assert [r["details"]["vault"] for r in records] == ([deleted] if deleted else [])
    (summary,) = [r for r in audit_bodies(db, "retention.sweep") if r["contract"] is None]
    assert summary["details"]["vault"] == deleted and summary["decision"] == "done"
    assert report.counts()["vault"] == deleted


def test_a_dry_run_counts_and_changes_nothing(db: Database, log: AuditLog, seeded: Seeded) -> None:
    age(db, "acme", 100, 7)
    before = rows(db, "SELECT COUNT(*) FROM audit_records")
    report = Sweeper(log, POLICIES).sweep_at_time(NOW, dry_run=True)
    assert report.dry_run and report.counts()["vault"] == 7
    assert count(db, "vault", "acme") == 13 and rows(db, "SELECT COUNT(*) FROM audit_records") == before


def test_a_count_left_by_a_crashed_run_is_reported_by_the_next(db: Database, log: AuditLog, seeded: Seeded) -> None:
    with db.transaction(write=True) as tx:  # a run that deleted 8 entries, then died before its record
        tx.execute("INSERT INTO store_meta (name, value) VALUES ('retention-pending:acme:vault', '8')")
    age(db, "acme", 100, 2)
    Sweeper(log, POLICIES).sweep_at_time(NOW)
    (record,) = [r for r in audit_bodies(db, "retention.sweep") if r["contract"] == "acme"]
    assert record["details"]["vault"] == 10
    assert rows(db, "SELECT COUNT(*) FROM store_meta WHERE name LIKE 'retention-pending:%'") == [(0,)]


@pytest.mark.parametrize(
    ("held", "terminated", "acme_left", "note"),
    [
        (True, False, 13, "legal hold"),
        (False, True, 0, "terminated"),
        (False, False, 8, None),
    ],
)
def test_held_and_terminated_contracts_are_skipped(db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded,
                                                   held: bool, terminated: bool, acme_left: int,
                                                   note: str | None) -> None:
    if held:
        place_hold(log, "acme", None, "case 1", None)
    if terminated:
        Termination(log, keyring, POLICIES["acme"]).run()
    age(db, "acme", 100, 5)
    age(db, "globex", 100, 5)
    report = Sweeper(log, POLICIES).sweep_at_time(NOW)
    acme = report.contracts[0]
    if note is None:
        assert acme.skipped is None
    else:
        assert note in (acme.skipped or "")
    assert count(db, "vault", "acme") == acme_left and count(db, "vault", "globex") == 8


def test_audit_records_past_retention_are_purged_but_not_past_a_held_contracts_first(
        db: Database, keyring: KeyRing, seeded: Seeded) -> None:
    clock = Clock(NOW - timedelta(days=800))
    log = AuditLog(db, keyring, now=clock)
    for contract in ("globex", "globex", "acme", "globex"):
        log.append(AuditEvent(kind="admin", action="test.old", contract=contract))
        clock.advance(timedelta(days=10))
    clock.moment = NOW
    place_hold(log, "acme", None, "case 2", None)
    report = Sweeper(log, POLICIES).sweep_at_time(NOW)
    assert report.audit.count == 2 and "legal hold" in (report.audit.note or "")
    assert [b["contract"] for b in audit_bodies(db, "test.old")] == ["acme", "globex"]
    assert verify_store(db, log.public_keys()).ok
    release_hold(log, "acme", None, None)
    report = Sweeper(log, POLICIES).sweep_at_time(NOW + timedelta(seconds=5))
    assert report.audit.count == 2  # the held contract's old record and the one after it
    assert audit_bodies(db, "test.old") == []


def test_plugins_hear_of_every_run(db: Database, log: AuditLog, seeded: Seeded) -> None:
    from gateway.pluginmanager import load_plugins
    from plugin_fixtures import lifecycle as listener

    listener.CALLS.clear()
    age(db, "acme", 100, 3)
    Sweeper(log, POLICIES, load_plugins(["plugin_fixtures.lifecycle"], entry_points=False)).sweep_at_time(NOW)
    assert listener.CALLS == [("retention_run", ("acme", {"vault": 3, "payloads": 0})),
                              ("retention_run", ("globex", {"vault": 0, "payloads": 0})),
                              ("retention_run", (None, {"audit": 0}))]
    listener.CALLS.clear()


def test_one_sweep_per_interval_across_gateways(log: AuditLog) -> None:
    assert claim_run(log, NOW, 3600)
    assert not claim_run(log, NOW + timedelta(seconds=60), 3600)
    assert claim_run(log, NOW + timedelta(seconds=3600), 3600)


async def test_the_server_loop_survives_a_failing_sweep(db: Database, log: AuditLog) -> None:
    class Broken(Sweeper):
        def sweep(self, *, dry_run: bool = False) -> SweepReport:
            raise RuntimeError("store went away")

    with ThreadPoolExecutor(max_workers=1) as pool:
        task = asyncio.create_task(run_periodically(lambda: Broken(log, POLICIES), pool, 0.05))
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    failed = [r for r in audit_bodies(db, "retention.sweep") if r["decision"] == "failed"]
    assert failed and failed[0]["details"] == {"error": "RuntimeError"}


async def test_the_server_loop_sweeps(db: Database, log: AuditLog, seeded: Seeded) -> None:
    age(db, "acme", 100, 4)
    with ThreadPoolExecutor(max_workers=1) as pool:
        task = asyncio.create_task(run_periodically(lambda: Sweeper(log, POLICIES), pool, 0.05))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if count(db, "vault", "acme") == 9:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert count(db, "vault", "acme") == 9
