"""Exports: ranges, the manifest, streaming with bounded memory."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from audit_support import StepClock, event

from gateway.audit import AuditLog, ExportFilter, export, verify_export
from gateway.audit.export import export_range, manifest_path_for
from gateway.errors import AuditError


def test_manifest_states_the_range_and_covers_the_checkpoints(log: AuditLog, tmp_path: Path) -> None:
    for i in range(5):
        log.append(event(i))
    cp = log.checkpoint()
    log.append(event(5))
    out = tmp_path / "audit.jsonl"
    manifest = export(log, out, "jsonl")
    assert json.loads(manifest_path_for(out).read_text()) == manifest
    assert (manifest["first_seq"], manifest["last_seq"], manifest["count"], manifest["omitted"]) == (1, 6, 6, 0)
    assert manifest["first_prev_hash"] == "0" * 64
    assert manifest["last_hash"] == log.head()[1] == manifest["head"]["hash"]
    # The head had moved since the last checkpoint: the export signed a fresh one covering record 6.
    assert [c["seq"] for c in manifest["checkpoints"]] == [5, 6]
    assert manifest["checkpoints"][0] == cp
    assert manifest["complete"] is True and manifest["file"] == "audit.jsonl"
    assert not out.with_name("audit.jsonl.partial").exists()


def test_time_range_selects_a_contiguous_run(log: AuditLog, clock: StepClock, tmp_path: Path) -> None:
    start = clock.moment
    for i in range(10):  # one record a minute
        log.append(event(i))
    flt = ExportFilter(start=start + timedelta(minutes=3), end=start + timedelta(minutes=7))
    span = export_range(log, flt)
    assert (span.first_seq, span.last_seq) == (3, 6)
    out = tmp_path / "middle.csv"
    manifest = export(log, out, "csv", flt)
    assert manifest["filter"]["from"] == "2019-01-01T00:03:00.000000Z"
    report = verify_export(out, log.public_keys())
    assert report.ok, report.problems
    assert (report.first_seq, report.last_seq) == (3, 6)
    assert any("not part of this proof" in n for n in report.notes)


def test_an_empty_export_verifies(log: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "empty.jsonl"
    manifest = export(log, out, "jsonl", ExportFilter(contract="nobody"))
    assert manifest["count"] == 0 and manifest["first_seq"] is None
    assert out.read_text() == ""
    assert verify_export(out, log.public_keys()).ok


def test_unreadable_stored_record_stops_the_export_and_leaves_no_file(log: AuditLog, tmp_path: Path) -> None:
    log.append(event())
    with log.db.transaction(write=True) as tx:
        tx.execute("UPDATE audit_records SET body = 'not json' WHERE seq = 1")
    out = tmp_path / "audit.jsonl"
    with pytest.raises(AuditError):
        export(log, out, "jsonl")
    assert not out.exists() and not out.with_name("audit.jsonl.partial").exists()


def test_missing_manifest_is_not_intact(log: AuditLog, tmp_path: Path) -> None:
    log.append(event())
    out = tmp_path / "audit.jsonl"
    export(log, out, "jsonl")
    manifest_path_for(out).unlink()
    report = verify_export(out, log.public_keys())
    assert not report.ok and report.first_bad_seq is None


def _peak(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_large_export_streams_in_bounded_memory(log: AuditLog, tmp_path: Path) -> None:
    for batch in range(40):
        log.append_many([event(batch * 500 + i, contract="acme" if i % 4 else "beta") for i in range(500)])
    jsonl, csv_file = tmp_path / "big.jsonl", tmp_path / "big.csv"
    ticks: list[int] = []
    # A page of 1000 rows is about 2.5 MB of Python objects; holding 20,000 records would be ~50 MB.
    assert _peak(lambda: export(log, jsonl, "jsonl", progress=ticks.append)) < 4_000_000
    assert len(ticks) == 20_000
    assert jsonl.stat().st_size > 8_000_000
    report = verify_export(jsonl, log.public_keys())
    assert report.ok and report.records == 20_000
    export(log, csv_file, "csv", ExportFilter(contract="beta"))
    report = verify_export(csv_file, log.public_keys())
    assert report.ok and (report.records, report.omitted) == (5_000, 15_000)
