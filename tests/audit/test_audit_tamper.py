"""Every attack on an export (JSONL and CSV) and on the store is caught, at the right sequence number.

The chain: 20 records, checkpoints signed at 10 and at 20. Each attack names the first bad sequence
number the verifier must report, through the library and through ``aduana audit verify`` (exit 1).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from audit_support import event
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit import AuditLog, ExportFilter, export, verify_export, verify_store
from gateway.audit.checkpoint import AuditSigner, load_public_keys
from gateway.audit.export import CSV_COLUMNS, manifest_path_for
from gateway.audit.record import (
    FIELD_NAMES,
    canonical_json,
    from_cell,
    record_hash,
    to_cell,
)
from gateway.store import Database

Rows = list[dict[str, Any]]


@pytest.fixture
def chain(log: AuditLog) -> AuditLog:
    for i in range(1, 21):
        log.append(event(i, contract="acme" if i % 3 else "beta"))
        if i in (10, 20):
            log.checkpoint()
    return log


@pytest.fixture
def pem(chain: AuditLog, tmp_path: Path) -> Path:
    path = tmp_path / "audit.pem"
    path.write_text(chain.signer.public_pem)
    return path


# --- reading and writing an export the way an attacker would ------------------------------------------


def load_rows(path: Path, fmt: str) -> Rows:
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        return [{k: from_cell(k, row[k]) for k in (*FIELD_NAMES, "prev_hash", "hash")} for row in reader]


def save_rows(path: Path, fmt: str, rows: Rows) -> None:
    if fmt == "jsonl":
        path.write_text("".join(canonical_json(r).decode() + "\n" for r in rows))
        return
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([to_cell(k, r[k]) for k in (*FIELD_NAMES, "prev_hash", "hash")] + [""])


def rehash(record: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if k not in ("prev_hash", "hash")}
    return {**body, "prev_hash": prev_hash, "hash": record_hash(prev_hash, body)}


def modify(rows: Rows) -> None:
    rows[6]["decision"] = "blocked"


def delete(rows: Rows) -> None:
    del rows[6]


def insert(rows: Rows) -> None:
    forged = rehash({**rows[6], "request_id": "forged", "contract": "beta"}, rows[5]["hash"])
    rows.insert(6, forged)  # links perfectly to record 6; the genuine 7 follows it


def reorder(rows: Rows) -> None:
    rows[6], rows[7] = rows[7], rows[6]


def truncate(rows: Rows) -> None:
    del rows[-3:]


def rewrite(rows: Rows) -> None:
    """Change record 7 and recompute every later hash: only the signed checkpoint at 10 can tell."""
    rows[6]["decision"] = "blocked"
    prev = rows[5]["hash"]
    for i in range(6, len(rows)):
        rows[i] = rehash(rows[i], prev)
        prev = rows[i]["hash"]


ROW_ATTACKS: list[tuple[str, Callable[[Rows], None], int]] = [
    ("modify", modify, 7),
    ("delete", delete, 7),
    ("insert", insert, 7),
    ("reorder", reorder, 7),
    ("truncate-end", truncate, 18),
    ("rewrite-after", rewrite, 10),
]


def forge_checkpoint_hash(manifest: dict[str, Any], log: AuditLog) -> None:
    manifest["checkpoints"][0]["hash"] = "ab" * 32  # claims another head for record 10


def forge_checkpoint_key(manifest: dict[str, Any], log: AuditLog) -> None:
    mallory = AuditSigner(Ed25519PrivateKey.generate())
    manifest["checkpoints"][0] = mallory.sign({**manifest["checkpoints"][0], "hash": "ab" * 32})


def assert_caught(result: Result, first_bad: int) -> None:
    assert result.exit_code == 1, result.output
    assert f"first bad sequence number: {first_bad}" in result.output


# --- exports ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_untouched_export_verifies(chain: AuditLog, pem: Path, tmp_path: Path, fmt: str,
                                      cli: Callable[..., Result]) -> None:
    out = tmp_path / f"audit.{fmt}"
    export(chain, out, fmt)  # type: ignore[arg-type]
    report = verify_export(out, load_public_keys(pem.read_bytes()))
    assert report.ok, report.problems
    assert (report.first_seq, report.last_seq, report.records, report.checkpoints) == (1, 20, 20, 2)
    result = cli("verify", str(out), "--public-key", str(pem))
    assert result.exit_code == 0, result.output
    assert "INTACT" in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize(("name", "attack", "first_bad"), ROW_ATTACKS, ids=[a[0] for a in ROW_ATTACKS])
def test_attack_on_an_export(chain: AuditLog, pem: Path, tmp_path: Path, cli: Callable[..., Result],
                             fmt: str, name: str, attack: Callable[[Rows], None], first_bad: int) -> None:
    out = tmp_path / f"audit.{fmt}"
    export(chain, out, fmt)  # type: ignore[arg-type]
    rows = load_rows(out, fmt)
    attack(rows)
    save_rows(out, fmt, rows)
    report = verify_export(out, load_public_keys(pem.read_bytes()))
    assert not report.ok
    assert report.first_bad_seq == first_bad, report.problems
    assert_caught(cli("verify", str(out), "--public-key", str(pem)), first_bad)


@pytest.mark.parametrize("forge", [forge_checkpoint_hash, forge_checkpoint_key])
def test_forged_checkpoint_in_an_export(chain: AuditLog, pem: Path, tmp_path: Path, cli: Callable[..., Result],
                                        forge: Callable[[dict[str, Any], AuditLog], None]) -> None:
    out = tmp_path / "audit.jsonl"
    export(chain, out, "jsonl")
    manifest_file = manifest_path_for(out)
    manifest = json.loads(manifest_file.read_text())
    forge(manifest, chain)
    manifest_file.write_text(json.dumps(manifest))
    report = verify_export(out, load_public_keys(pem.read_bytes()))
    assert report.first_bad_seq == 10, report.problems
    assert_caught(cli("verify", str(out), "--public-key", str(pem)), 10)


def test_a_manifest_resigned_by_another_key_is_refused(chain: AuditLog, pem: Path, tmp_path: Path,
                                                       cli: Callable[..., Result]) -> None:
    out = tmp_path / "audit.jsonl"
    export(chain, out, "jsonl")
    rows = load_rows(out, "jsonl")
    truncate(rows)
    save_rows(out, "jsonl", rows)
    manifest_file = manifest_path_for(out)
    manifest = json.loads(manifest_file.read_text())
    mallory = AuditSigner(Ed25519PrivateKey.generate())
    manifest.update(last_seq=17, last_hash=rows[-1]["hash"], count=17, checkpoints=manifest["checkpoints"][:1])
    manifest_file.write_text(json.dumps(mallory.sign(manifest)))
    result = cli("verify", str(out), "--public-key", str(pem))
    assert result.exit_code == 1
    assert "manifest's signature does not verify" in result.output


def test_without_a_public_key_the_manifest_key_is_used_and_flagged(chain: AuditLog, tmp_path: Path,
                                                                   cli: Callable[..., Result]) -> None:
    out = tmp_path / "audit.jsonl"
    export(chain, out, "jsonl")
    result = cli("verify", str(out))
    assert result.exit_code == 0
    assert "proves nothing about who signed" in result.output


# --- the store -----------------------------------------------------------------------------------------


def _exec(db: Database, *statements: tuple[str, tuple[Any, ...]]) -> None:
    with db.transaction(write=True) as tx:
        for sql, params in statements:
            tx.execute(sql, params)


def _row(db: Database, seq: int) -> tuple[Any, ...]:
    with db.transaction() as tx:
        row = tx.fetchone("SELECT seq, time, contract, vendor, prev_hash, hash, body FROM audit_records WHERE seq = ?",
                          (seq,))
    assert row is not None
    return row


def store_modify(db: Database) -> None:
    sql = ("UPDATE audit_records SET body = replace(body, '\"decision\":\"forwarded\"', '\"decision\":\"blocked\"')"
           " WHERE seq = 7")
    _exec(db, (sql, ()))


def store_delete(db: Database) -> None:
    _exec(db, ("DELETE FROM audit_records WHERE seq = 7", ()))


def store_insert(db: Database) -> None:
    for seq in range(20, 6, -1):  # make room at 7, highest first so the primary key never collides
        _exec(db, ("UPDATE audit_records SET seq = ? WHERE seq = ?", (seq + 1, seq)))
    _, time, contract, vendor, _, _, body_text = _row(db, 8)
    forged = rehash({**json.loads(body_text), "request_id": "forged"}, _row(db, 6)[5])
    body = {k: v for k, v in forged.items() if k not in ("prev_hash", "hash")}
    sql = "INSERT INTO audit_records (seq, time, contract, vendor, prev_hash, hash, body) VALUES (7, ?, ?, ?, ?, ?, ?)"
    _exec(db, (sql, (time, contract, vendor, forged["prev_hash"], forged["hash"], canonical_json(body).decode())))


def store_reorder(db: Database) -> None:
    seven, eight = _row(db, 7), _row(db, 8)
    update = ("UPDATE audit_records SET time = ?, contract = ?, vendor = ?, prev_hash = ?, hash = ?, body = ?"
              " WHERE seq = ?")
    _exec(db, (update, (*eight[1:], 7)), (update, (*seven[1:], 8)))


def store_truncate(db: Database) -> None:
    seventeen = _row(db, 17)
    _exec(db, ("DELETE FROM audit_records WHERE seq > 17", ()),
          ("UPDATE audit_head SET seq = 17, hash = ?, time = ? WHERE id = 1", (seventeen[5], seventeen[1])))


def store_rewrite(db: Database) -> None:
    prev = _row(db, 6)[5]
    for seq in range(7, 21):
        record = json.loads(_row(db, seq)[6])
        if seq == 7:
            record["decision"] = "blocked"
        own = record_hash(prev, record)
        _exec(db, ("UPDATE audit_records SET prev_hash = ?, hash = ?, body = ? WHERE seq = ?",
                   (prev, own, canonical_json(record).decode(), seq)))
        prev = own
    _exec(db, ("UPDATE audit_head SET hash = ? WHERE id = 1", (prev,)))


def store_forge_checkpoint(db: Database) -> None:
    with db.transaction() as tx:
        row = tx.fetchone("SELECT time, statement FROM audit_checkpoints WHERE seq = 10")
    assert row is not None
    forged = {**json.loads(row[1]), "hash": "ab" * 32}
    _exec(db, ("UPDATE audit_checkpoints SET statement = ?, hash = ? WHERE seq = 10",
               (canonical_json(forged).decode(), "ab" * 32)))


STORE_ATTACKS: list[tuple[str, Callable[[Database], None], int]] = [
    ("modify", store_modify, 7),
    ("delete", store_delete, 7),
    ("insert", store_insert, 7),
    ("reorder", store_reorder, 7),
    ("truncate-end", store_truncate, 18),
    ("forged-checkpoint", store_forge_checkpoint, 10),
    ("rewrite-after", store_rewrite, 10),
]


def test_an_untouched_store_verifies(chain: AuditLog, cli: Callable[..., Result]) -> None:
    report = verify_store(chain.db, chain.public_keys())
    assert report.ok, report.problems
    assert (report.records, report.checkpoints) == (20, 2)
    result = cli("verify", "--store")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("name", "attack", "first_bad"), STORE_ATTACKS, ids=[a[0] for a in STORE_ATTACKS])
def test_attack_on_the_store(chain: AuditLog, pem: Path, cli: Callable[..., Result], name: str,
                             attack: Callable[[Database], None], first_bad: int) -> None:
    attack(chain.db)
    report = verify_store(chain.db, chain.public_keys())
    assert not report.ok
    assert report.first_bad_seq == first_bad, report.problems
    assert_caught(cli("verify", "--store"), first_bad)
    assert_caught(cli("verify", "--store", "--public-key", str(pem)), first_bad)


# --- filtered exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_filtered_export_proves_positions(chain: AuditLog, pem: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"beta.{fmt}"
    manifest = export(chain, out, fmt, ExportFilter(contract="beta"))  # type: ignore[arg-type]
    assert (manifest["count"], manifest["omitted"], manifest["complete"]) == (6, 14, False)
    text = out.read_text()
    assert "acme" not in text and "req-1," not in text and '"req-1"' not in text  # nothing of the others
    keys = load_public_keys(pem.read_bytes())
    assert verify_export(out, keys).ok
    rows = out.read_text().splitlines()
    if fmt == "jsonl":
        record = json.loads(rows[2])  # record 3 is beta's
        record["decision"] = "blocked"
        rows[2] = canonical_json(record).decode()
        out.write_text("\n".join(rows) + "\n")
        assert verify_export(out, keys).first_bad_seq == 3


def test_turning_a_record_into_an_omitted_entry_is_caught(chain: AuditLog, pem: Path, tmp_path: Path) -> None:
    out = tmp_path / "beta.jsonl"
    export(chain, out, "jsonl", ExportFilter(contract="beta"))
    lines = out.read_text().splitlines()
    whole = json.loads(lines[2])
    body = {k: v for k, v in whole.items() if k not in ("prev_hash", "hash")}
    from gateway.audit.record import body_digest

    stub = {"seq": 3, "prev_hash": whole["prev_hash"], "hash": whole["hash"], "omitted_digest": body_digest(body).hex()}
    lines[2] = canonical_json(stub).decode()
    out.write_text("\n".join(lines) + "\n")
    report = verify_export(out, load_public_keys(pem.read_bytes()))
    assert not report.ok  # the chain still links: the signed counts and file digest catch it
    assert any("differs from the manifest" in p.message for p in report.problems)
