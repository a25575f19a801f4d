"""Purging old records leaves a signed anchor; the remaining chain verifies from it, in the store and exported."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from audit_support import StepClock, event

from gateway.audit import AuditLog, export, purge, verify_export, verify_store
from gateway.audit.checkpoint import verify_statement
from gateway.audit.record import canonical_json
from gateway.audit.retention import DEFAULT_MIN_RETENTION, audit_retention, duration

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def old_chain(log: AuditLog, clock: StepClock) -> AuditLog:
    """Records 1-10 one minute apart from 2019-01-01T00:01 (record 6 at 00:07: signing the checkpoint
    at 5 read the clock once), checkpoints at 5 and 10."""
    for i in range(1, 11):
        log.append(event(i))
        if i in (5, 10):
            log.checkpoint()
    return log


def test_purge_leaves_a_signed_anchor_and_a_verifiable_chain(old_chain: AuditLog, clock: StepClock,
                                                            tmp_path: Path) -> None:
    cutoff = datetime(2019, 1, 1, 0, 8, tzinfo=UTC)  # records 1-6 are older
    result = purge(old_chain, cutoff, now=NOW, actor="cli:root")
    assert (result.count, result.first_seq, result.through_seq) == (6, 1, 6)
    assert result.anchor is not None and result.record is not None
    verify_statement(result.anchor, old_chain.public_keys(), "anchor")
    assert result.anchor["purged_count"] == 6 and result.anchor["before"] == "2019-01-01T00:08:00.000000Z"
    assert result.record["action"] == "retention.purge" and result.record["seq"] == 11
    assert result.record["details"] == {"purged": 6, "first_seq": 1, "through_seq": 6,
                                        "before": "2019-01-01T00:08:00.000000Z"}
    with old_chain.db.transaction() as tx:
        assert tx.fetchone("SELECT MIN(seq), COUNT(*) FROM audit_records") == (7, 5)
        assert [r[0] for r in tx.fetchall("SELECT seq FROM audit_checkpoints ORDER BY seq")] == [10]
        first_prev = tx.fetchone("SELECT prev_hash FROM audit_records WHERE seq = 7")
    assert first_prev == (result.anchor["hash"],)

    report = verify_store(old_chain.db, old_chain.public_keys())
    assert report.ok, report.problems
    assert (report.anchor_seq, report.first_seq, report.last_seq) == (6, 7, 11)

    out = tmp_path / "after-purge.jsonl"
    manifest = export(old_chain, out, "jsonl")
    assert manifest["anchor"] == result.anchor
    report = verify_export(out, old_chain.public_keys())
    assert report.ok, report.problems
    assert report.anchor_seq == 6


def test_a_second_purge_moves_the_anchor(old_chain: AuditLog) -> None:
    purge(old_chain, datetime(2019, 1, 1, 0, 4, tzinfo=UTC), now=NOW)
    second = purge(old_chain, datetime(2019, 1, 1, 0, 9, tzinfo=UTC), now=NOW)
    assert (second.count, second.first_seq, second.through_seq) == (4, 4, 7)
    report = verify_store(old_chain.db, old_chain.public_keys())
    assert report.ok, report.problems
    assert report.anchor_seq == 7


def test_dry_run_and_nothing_to_purge(old_chain: AuditLog) -> None:
    preview = purge(old_chain, datetime(2019, 1, 1, 0, 8, tzinfo=UTC), dry_run=True, now=NOW)
    assert (preview.count, preview.through_seq, preview.anchor) == (6, 6, None)
    assert old_chain.head()[0] == 10
    assert purge(old_chain, datetime(2018, 1, 1, tzinfo=UTC), now=NOW).count == 0


def test_cutoff_younger_than_the_retention_is_refused(old_chain: AuditLog) -> None:
    with pytest.raises(ValueError, match="minimum retention"):
        purge(old_chain, datetime(2019, 1, 1, 0, 7, tzinfo=UTC), now=datetime(2020, 1, 1, tzinfo=UTC))
    assert old_chain.head()[0] == 10


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        ("forge-anchor", 7),  # the anchor's hash no longer signed
        ("delete-first-remaining", 7),
        ("delete-anchor", 1),  # without an anchor the chain must start at 1 from the genesis hash
    ],
)
def test_tampering_with_the_anchor_is_caught(old_chain: AuditLog, tamper: str, first_bad: int) -> None:
    purge(old_chain, datetime(2019, 1, 1, 0, 8, tzinfo=UTC), now=NOW)
    with old_chain.db.transaction(write=True) as tx:
        if tamper == "forge-anchor":
            row = tx.fetchone("SELECT statement FROM audit_anchors")
            assert row is not None
            anchor = {**json.loads(row[0]), "hash": "ab" * 32}
            tx.execute("UPDATE audit_anchors SET statement = ?", (canonical_json(anchor).decode(),))
        elif tamper == "delete-first-remaining":
            tx.execute("DELETE FROM audit_records WHERE seq = 7")
        else:
            tx.execute("DELETE FROM audit_anchors")
    report = verify_store(old_chain.db, old_chain.public_keys())
    assert report.first_bad_seq == first_bad, report.problems


@pytest.mark.parametrize(
    ("iso", "days"),
    [("P6Y", 2192), ("P90D", 90), ("P2W", 14), ("P1Y6M", 548)],
)
def test_durations(iso: str, days: int) -> None:
    assert duration(iso) == timedelta(days=days)


def test_the_longest_policy_retention_wins() -> None:
    assert audit_retention([]) == (DEFAULT_MIN_RETENTION, "six years (no policy pack sets retention.audit)")
    assert audit_retention([("P1Y", "gdpr@1"), ("P7Y", "sox@2"), ("P6Y", "hipaa@1")]) == (
        timedelta(days=2557), "P7Y from pack sox@2")
    with pytest.raises(ValueError):
        duration("six years")
