"""Verify an audit chain offline (an export and its manifest) or live (the store).

Rules this module keeps:

1. Nothing is trusted that a valid signature by a given public key does not vouch for: the chain is
   recomputed from the record contents, and tied to signed checkpoints, a signed anchor (after a
   purge) or the genesis hash; a manifest whose signature fails contributes nothing.
2. Every departure is a problem named by sequence number (see ``chain.py``); the verdict is "intact"
   only with no problem at all, and any malformed input is a problem, never a crash.
3. Memory stays bounded: records stream in pages or line by line; only checkpoints are merged in.
4. The store is read in one snapshot, so writers may go on appending while it is verified.

A rewrite that recomputes every hash after a change is caught at the first signed checkpoint after the
change, which is then the sequence number reported (the change lies after the checkpoint before it).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.chain import ChainWalker, Checkpoint, Entry, Progress, Report
from gateway.audit.checkpoint import (
    SignatureInvalid,
    load_public_keys,
    verify_statement,
)
from gateway.audit.export import CSV_COLUMNS, STUB_KEYS, file_sha256, manifest_path_for
from gateway.audit.log import pages, read_head, snapshot
from gateway.audit.record import (
    FIELD_NAMES,
    GENESIS,
    MalformedRecord,
    body_digest,
    canonical_json,
    from_cell,
    is_hash,
    split_record,
    to_cell,
)
from gateway.store.base import Database, Transaction

__all__ = ["ChainWalker", "Entry", "Report", "verify_export", "verify_store"]


# --- checkpoints and anchors --------------------------------------------------------------------


def _checked(statements: Iterable[Mapping[str, Any]], keys: Mapping[str, Ed25519PublicKey],
             report: Report) -> Iterator[Checkpoint]:
    """The checkpoints whose signatures verify; a forged one is a problem at the seq it claims."""
    for statement in statements:
        seq = statement.get("seq") if isinstance(statement, Mapping) else None
        try:
            verify_statement(statement, keys, "checkpoint")
            if not isinstance(seq, int) or not is_hash(statement.get("hash")):
                raise SignatureInvalid("malformed checkpoint")
        except SignatureInvalid:
            report.add(seq if isinstance(seq, int) else None,
                       f"checkpoint for record {seq} is forged: its signature does not verify")
            continue
        report.key_ids.add(str(statement["key_id"]))
        yield seq, str(statement["hash"]), str(statement.get("time"))


def _anchor_start(anchor: Mapping[str, Any] | None, keys: Mapping[str, Ed25519PublicKey],
                  report: Report) -> tuple[int, str | None]:
    """Where the chain starts: after a valid anchor (with its hash), or at 1 from the genesis hash."""
    if anchor is None:
        return 1, GENESIS
    seq = anchor.get("seq")
    try:
        verify_statement(anchor, keys, "anchor")
        if not isinstance(seq, int) or not is_hash(anchor.get("hash")):
            raise SignatureInvalid("malformed anchor")
    except SignatureInvalid:
        start = seq + 1 if isinstance(seq, int) else 1
        report.add(start, "the retention anchor is forged: its signature does not verify")
        return start, None
    report.anchor_seq = seq
    report.key_ids.add(str(anchor["key_id"]))
    return seq + 1, str(anchor["hash"])


# --- the store ---------------------------------------------------------------------------------------


def _store_checkpoints(tx: Transaction) -> Iterator[Mapping[str, Any]]:
    after: tuple[int, str] = (-1, "")
    while True:
        rows = tx.fetchall(
            "SELECT seq, time, statement FROM audit_checkpoints WHERE seq > ? OR (seq = ? AND time > ?)"
            " ORDER BY seq, time LIMIT 1000", (after[0], after[0], after[1]))
        for seq, time, statement in rows:
            parsed = _statement(statement)
            if parsed.get("seq") != seq or parsed.get("time") != time:
                parsed = {"type": "checkpoint", "seq": int(seq)}  # disagrees with its row: unverifiable
            yield parsed
        if len(rows) < 1000:
            return
        after = (int(rows[-1][0]), str(rows[-1][1]))


def verify_store(db: Database, keys: Mapping[str, Ed25519PublicKey], *,
                 progress: Progress | None = None) -> Report:
    """Verify the live chain in ``db`` against ``keys``."""
    report = Report(source=db.url.split("@")[-1])
    with db.transaction() as tx:
        snapshot(db, tx)  # records, checkpoints and head as of one moment, while writers go on
        head_seq, head_hash = read_head(tx)
        anchors = [_statement(r[0]) for r in tx.fetchall("SELECT statement FROM audit_anchors ORDER BY seq")]
        for anchor in anchors[:-1]:
            try:
                verify_statement(anchor, keys, "anchor")
            except SignatureInvalid:
                seq = anchor.get("seq")
                report.add(seq if isinstance(seq, int) else None, "an earlier retention anchor is forged")
        start_seq, start_hash = _anchor_start(anchors[-1] if anchors else None, keys, report)
        walker = ChainWalker(report, start_seq, start_hash, _checked(_store_checkpoints(tx), keys, report))
        rows = pages(tx, "SELECT seq, body, prev_hash, hash, time, contract, vendor FROM audit_records"
                         " WHERE seq > ?", (), -1)
        for column_seq, body_text, prev_hash, own_hash, time, contract, vendor in rows:
            try:
                record = _loads(body_text)
                if not isinstance(record, dict):
                    raise MalformedRecord("not a JSON object")
                body, prev, own = split_record({**record, "prev_hash": prev_hash, "hash": own_hash})
                if canonical_json(body, check=False).decode("utf-8") != body_text:
                    raise MalformedRecord("the stored body is not canonical")
            except (MalformedRecord, TypeError, ValueError):
                report.add(int(column_seq), f"record {column_seq} is malformed")
                walker.skip(int(column_seq))
                continue
            if body["seq"] != column_seq:
                report.add(min(body["seq"], column_seq),
                           f"the record stored at {column_seq} says it is record {body['seq']}")
            if (time, contract, vendor) != (body["time"], body["contract"], body["vendor"]):
                report.add(body["seq"], f"record {body['seq']}'s index columns disagree with its content")
            walker.feed(Entry(body["seq"], prev, own, body_digest(body, check=False), omitted=False))
            if progress:
                progress(1)
        walker.finish(head_seq, head_hash, "the store's head")
        if report.last_seq is not None and report.last_seq > head_seq:
            report.add(head_seq + 1, f"records after the head ({head_seq}) were added behind the writer's back")
    return report


def _statement(text: str) -> dict[str, Any]:
    """A stored statement, or an empty one (which then fails verification) when it is not JSON."""
    try:
        parsed = _loads(text)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _loads(text: str | bytes) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            raise ValueError("duplicate key")
        return out

    return json.loads(text, object_pairs_hook=no_duplicates)


# --- an export ---------------------------------------------------------------------------------------


Entries = Iterator[tuple[Entry, dict[str, Any] | None]]


def _jsonl_entries(path: Path, report: Report, walker_skip: Callable[[int], None]) -> Entries:
    with path.open("rb") as fh:
        last = 0
        for line in fh:
            try:
                obj = _loads(line)
                if not isinstance(obj, dict):
                    raise MalformedRecord("not a JSON object")
                entry, body = _entry(obj)  # checks every type first
                if canonical_json(obj, check=False) + b"\n" != line:
                    raise MalformedRecord("not a canonical JSON line")
            except (MalformedRecord, TypeError, ValueError):
                seq = _guess_seq(line, last)
                report.add(seq, f"record {seq} is malformed")
                walker_skip(seq)
                last = seq
                continue
            last = entry.seq
            yield entry, body


def _entry(obj: Mapping[str, Any]) -> tuple[Entry, dict[str, Any] | None]:
    if "omitted_digest" in obj:
        if set(obj) != set(STUB_KEYS) or not isinstance(obj["seq"], int) or isinstance(obj["seq"], bool):
            raise MalformedRecord("bad omitted entry")
        if not all(is_hash(obj[k]) for k in ("prev_hash", "hash", "omitted_digest")):
            raise MalformedRecord("bad omitted entry")
        return Entry(obj["seq"], obj["prev_hash"], obj["hash"], bytes.fromhex(obj["omitted_digest"]), True), None
    body, prev, own = split_record(obj)
    return Entry(body["seq"], prev, own, body_digest(body, check=False), False), body


def _guess_seq(line: bytes, last: int) -> int:
    try:
        seq = json.loads(line).get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            return seq
    except (ValueError, AttributeError):
        pass
    return last + 1


def _csv_entries(path: Path, report: Report, walker_skip: Callable[[int], None]) -> Entries:
    with path.open("r", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, lineterminator="\n")
        header = next(reader, None)
        if header != list(CSV_COLUMNS):
            report.add(None, "the CSV header is not the audit export's")
            return
        last = 0
        for row in reader:
            try:
                if len(row) != len(CSV_COLUMNS):
                    raise MalformedRecord("wrong number of cells")
                cells = dict(zip(CSV_COLUMNS, row, strict=True))
                if cells["omitted_digest"]:
                    if any(cells[k] for k in FIELD_NAMES if k != "seq"):
                        raise MalformedRecord("an omitted entry holds record fields")
                    obj: dict[str, Any] = {k: cells[k] for k in ("prev_hash", "hash", "omitted_digest")}
                    obj["seq"] = from_cell("seq", cells["seq"])
                else:
                    obj = {k: from_cell(k, cells[k]) for k in (*FIELD_NAMES, "prev_hash", "hash")}
                    if any(to_cell(k, obj[k]) != cells[k] for k in FIELD_NAMES):
                        raise MalformedRecord("a cell is not in its canonical form")
                entry, body = _entry(obj)
            except (MalformedRecord, TypeError, ValueError):
                seq = int(row[1]) if len(row) > 1 and row[1].isdigit() else last + 1
                report.add(seq, f"record {seq} is malformed")
                walker_skip(seq)
                last = seq
                continue
            last = entry.seq
            yield entry, body


def verify_export(path: Path, keys: Mapping[str, Ed25519PublicKey] | None, *,
                  manifest_path: Path | None = None, progress: Progress | None = None) -> Report:
    """Verify an export file and its manifest. ``keys=None`` trusts the key the manifest carries."""
    report = Report(source=str(path))
    manifest_file = manifest_path or manifest_path_for(path)
    try:
        manifest = _loads(manifest_file.read_bytes())
        if not isinstance(manifest, dict):
            raise TypeError("not a JSON object")
    except (OSError, TypeError, ValueError) as exc:
        report.add(None, f"the manifest {manifest_file} cannot be read: {exc}")
        return report
    if keys is None:
        try:
            keys = load_public_keys(str(manifest.get("public_key", "")).encode("ascii"))
        except ValueError:
            keys = {}
        report.notes.append("no --public-key given: signatures were checked against the key inside the "
                            "manifest, which proves nothing about who signed; compare its key id with the "
                            "published one")
    try:
        verify_statement(manifest, keys, "manifest")
        trusted = True
        report.key_ids.add(str(manifest["key_id"]))
    except SignatureInvalid:
        report.add(None, "the manifest's signature does not verify (forged or altered manifest)")
        trusted = False

    first_seq = manifest.get("first_seq") if trusted else None
    anchor = manifest.get("anchor") if isinstance(manifest.get("anchor"), dict) else None
    start_hash: str | None
    if isinstance(first_seq, int) and first_seq == 1:
        start_seq, start_hash = 1, GENESIS
    elif isinstance(first_seq, int) and anchor is not None and anchor.get("seq") == first_seq - 1:
        start_seq, start_hash = _anchor_start(anchor, keys, report)
    elif isinstance(first_seq, int):
        prev = manifest.get("first_prev_hash")
        start_seq, start_hash = first_seq, prev if is_hash(prev) else None
        report.notes.append(f"the export starts at record {first_seq}: the records before it are not part "
                            "of this proof")
    else:
        start_seq, start_hash = 1, None

    raw_cps = manifest.get("checkpoints")
    if not isinstance(raw_cps, list):
        raw_cps = []
    ordered = sorted((c for c in raw_cps if isinstance(c, dict)),
                     key=lambda c: c["seq"] if isinstance(c.get("seq"), int) else -1)
    walker = ChainWalker(report, start_seq, start_hash, _checked(ordered, keys, report))
    fmt = manifest.get("format") if trusted else ("csv" if path.suffix == ".csv" else "jsonl")
    reader = _csv_entries if fmt == "csv" else _jsonl_entries
    wanted = manifest.get("filter", {}) if trusted and isinstance(manifest.get("filter"), dict) else {}
    try:
        for entry, body in reader(path, report, walker.skip):
            if body is not None:
                for key in ("contract", "vendor"):
                    if wanted.get(key) is not None and body[key] != wanted[key]:
                        report.add(entry.seq, f"record {entry.seq} is outside the export's filter ({key})")
            walker.feed(entry)
            if progress:
                progress(1)
    except OSError as exc:
        report.add(None, f"the export {path} cannot be read: {exc}")
        return report
    if trusted:
        last_seq = manifest.get("last_seq")
        walker.finish(last_seq if isinstance(last_seq, int) else None, manifest.get("last_hash"), "the manifest")
        if report.records != manifest.get("count") or report.omitted != manifest.get("omitted"):
            report.add(None, "the number of records differs from the manifest")
        if file_sha256(path) != manifest.get("file_sha256"):
            report.add(None, "the file's SHA-256 differs from the one the manifest was signed for")
    else:
        walker.finish(None, None, "the export")
    return report
