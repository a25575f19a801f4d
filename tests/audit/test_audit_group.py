"""Group commit: concurrent appends share a transaction, each caller waits for its own, the chain holds.

All on a real SQLite store (``synchronous=FULL``) with real threads, as the gateway's store pool calls it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from audit_support import event

from gateway.audit import AuditEvent, AuditLog, verify_store
from gateway.audit.group import GroupCommit
from gateway.errors import AuditError
from gateway.store import Database

THREADS = 8


def stored_ids(db: Database) -> list[str]:
    with db.transaction() as tx:
        return [json.loads(b)["request_id"] for (b,) in tx.fetchall("SELECT body FROM audit_records ORDER BY seq")]


def check_chain(db: Database, log: AuditLog, total: int) -> None:
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT seq, prev_hash, hash FROM audit_records ORDER BY seq")
    assert [r[0] for r in rows] == list(range(1, total + 1))
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, total))
    report = verify_store(db, log.public_keys())
    assert report.ok, report.problems


def test_many_threads_appending_keep_one_verified_chain(db: Database, log: AuditLog) -> None:
    per_thread = 25

    def writer(t: int) -> list[dict[str, Any]]:
        return [log.append(event(i, request_id=f"{t}-{i}")) for i in range(per_thread)]

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(writer, range(THREADS)))
    total = THREADS * per_thread
    check_chain(db, log, total)
    ids = stored_ids(db)
    for t, records in enumerate(results):  # each caller got its own record back, in its own order
        assert [r["request_id"] for r in records] == [f"{t}-{i}" for i in range(per_thread)]
        assert [x for x in ids if x.startswith(f"{t}-")] == [f"{t}-{i}" for i in range(per_thread)]
        assert all(ids[r["seq"] - 1] == r["request_id"] for r in records)
    groups, records = log.group_commits
    assert records == total and 1 <= groups <= total


class HeldFirstCommit:
    """Wraps the real commit; holds the first one until ``waiting`` more callers have queued behind it."""

    def __init__(self, log: AuditLog, waiting: int) -> None:
        self.log, self.waiting = log, waiting
        self.group: GroupCommit | None = None
        self.calls: list[int] = []
        self.fail_next = False

    def __call__(self, events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
        assert self.group is not None
        if not self.calls:
            with self.group._cv:  # the leader released the lock while committing: wait for the queue
                while len(self.group._queue) < self.waiting:
                    self.group._cv.wait(timeout=0.05)
        self.calls.append(len(events))
        if self.fail_next:
            self.fail_next = False
            raise AuditError("disk full")
        return self.log.append_many(events)


def run_held(db: Database, log: AuditLog, commit: HeldFirstCommit, n: int) -> list[Any]:
    group = GroupCommit(commit)
    commit.group = group
    seen_durable: list[bool] = []

    def call(i: int) -> Any:
        try:
            record = group.append(event(i, request_id=f"r{i}"))
        except AuditError as exc:
            return exc
        seen_durable.append(f"r{i}" in stored_ids(db))  # durable when the call returns, not later
        return record

    first = threading.Thread(target=call, args=(0,))
    first.start()
    while not commit.group._busy:  # the first caller leads and is held inside its commit
        threading.Event().wait(0.001)
    with ThreadPoolExecutor(n - 1) as pool:
        rest = list(pool.map(call, range(1, n)))
    first.join()
    assert all(seen_durable)
    return rest


def test_callers_queued_behind_a_commit_share_the_next_one(db: Database, log: AuditLog) -> None:
    commit = HeldFirstCommit(log, waiting=THREADS - 1)
    records = run_held(db, log, commit, THREADS)
    assert commit.calls == [1, THREADS - 1]  # two transactions for eight records
    check_chain(db, log, THREADS)
    assert sorted(r["request_id"] for r in records) == sorted(f"r{i}" for i in range(1, THREADS))


def test_a_failed_group_fails_every_caller_in_it_and_records_none(db: Database, log: AuditLog) -> None:
    class FailSecond(HeldFirstCommit):
        def __call__(self, events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
            if self.calls:
                self.fail_next = True
            return super().__call__(events)

    commit = FailSecond(log, waiting=THREADS - 1)
    group_results = run_held(db, log, commit, THREADS)
    assert all(isinstance(r, AuditError) for r in group_results)
    assert len({id(r) for r in group_results}) == THREADS - 1  # each caller its own error object
    assert stored_ids(db) == ["r0"]  # all or none: the failed group left nothing
    log.append(event(99, request_id="after"))  # the writer carries on
    check_chain(db, log, 2)


def test_append_refuses_what_is_not_an_event(log: AuditLog) -> None:
    with pytest.raises(TypeError):
        log.append({"not": "an event"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_group"):
        GroupCommit(log.append_many, max_group=0)
