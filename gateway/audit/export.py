"""Export a range of the audit chain to JSONL or CSV with a signed manifest beside it.

Rules this module keeps:

1. An export is contiguous: it holds every position from ``first_seq`` to ``last_seq``. A record the
   filter (``--contract``/``--vendor``) leaves out is replaced by an *omitted entry* — its sequence
   number, ``prev_hash``, ``hash`` and body digest, nothing of its content — so the chain still
   recomputes end to end and every included record's position is proven.
2. Records are written exactly as stored (canonical JSON per JSONL line; typed cells in CSV), so the
   verifier recomputes the same bytes the writer hashed.
3. The manifest (``FILE.manifest.json``) is a signed statement of the range, counts, first and last
   hashes, the file's SHA-256, the retention anchor the range starts from (if any) and every signed
   checkpoint inside the range.
4. Memory stays bounded: rows stream in keyset pages and are written as they come; the data file
   appears under its name only when complete.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final, Literal

from gateway.audit.log import (
    AuditLog,
    latest_anchor,
    pages,
    read_head,
    snapshot,
    stored_record,
)
from gateway.audit.record import (
    FIELD_NAMES,
    body_digest,
    canonical_json,
    format_time,
    to_cell,
)
from gateway.errors import AuditError

Format = Literal["jsonl", "csv"]
FORMATS: Final = ("jsonl", "csv")
CSV_COLUMNS: Final = (*FIELD_NAMES, "prev_hash", "hash", "omitted_digest")
STUB_KEYS: Final = ("seq", "prev_hash", "hash", "omitted_digest")


def manifest_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportFilter:
    """Which records to export. ``start`` is inclusive, ``end`` exclusive (by record time)."""

    start: datetime | None = None
    end: datetime | None = None
    contract: str | None = None
    vendor: str | None = None

    @property
    def complete(self) -> bool:
        """True when every record of the range is included (no contract or vendor filter)."""
        return self.contract is None and self.vendor is None

    def includes(self, body: dict[str, Any]) -> bool:
        return (self.contract is None or body["contract"] == self.contract) and (
            self.vendor is None or body["vendor"] == self.vendor
        )


@dataclass(frozen=True)
class Range:
    first_seq: int
    last_seq: int

    @property
    def size(self) -> int:
        return max(0, self.last_seq - self.first_seq + 1)


def export_range(log: AuditLog, flt: ExportFilter) -> Range:
    """The contiguous sequence range a time filter selects (empty when ``first_seq > last_seq``).

    From the first record at or after ``start`` to the last record before ``end``: a record written
    with a skewed clock inside that range is included rather than leaving a hole in the chain.
    """
    with log.db.transaction() as tx:
        head_seq, _ = read_head(tx)
        if flt.start is None:
            row = tx.fetchone("SELECT MIN(seq) FROM audit_records")
        else:
            row = tx.fetchone("SELECT MIN(seq) FROM audit_records WHERE time >= ?", (format_time(flt.start),))
        if flt.end is None:
            last = head_seq
        else:
            end_row = tx.fetchone("SELECT MAX(seq) FROM audit_records WHERE time < ?", (format_time(flt.end),))
            last = int(end_row[0]) if end_row and end_row[0] is not None else 0
    first = int(row[0]) if row and row[0] is not None else head_seq + 1
    return Range(first, min(last, head_seq))


class _Writer:
    def __init__(self, fh: IO[str], fmt: Format) -> None:
        self._fh = fh
        self._csv = csv.writer(fh, lineterminator="\n") if fmt == "csv" else None
        if self._csv is not None:
            self._csv.writerow(CSV_COLUMNS)

    def record(self, record: dict[str, Any]) -> None:
        if self._csv is None:
            self._fh.write(canonical_json(record).decode("utf-8") + "\n")
        else:
            self._csv.writerow([to_cell(k, record[k]) for k in (*FIELD_NAMES, "prev_hash", "hash")] + [""])

    def omitted(self, seq: int, prev_hash: str, own_hash: str, digest: str) -> None:
        if self._csv is None:
            stub = {"seq": seq, "prev_hash": prev_hash, "hash": own_hash, "omitted_digest": digest}
            self._fh.write(canonical_json(stub).decode("utf-8") + "\n")
        else:
            cells = {"seq": str(seq), "prev_hash": prev_hash, "hash": own_hash, "omitted_digest": digest}
            self._csv.writerow([cells.get(k, "") for k in CSV_COLUMNS])


def export(
    log: AuditLog,
    out: Path,
    fmt: Format = "jsonl",
    flt: ExportFilter | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    checkpoint: bool = True,
) -> dict[str, Any]:
    """Write ``out`` and ``out.manifest.json``; return the signed manifest.

    With ``checkpoint`` (the default) and a range that runs to the head, the head is checkpointed
    first if it moved since the last checkpoint, so every exported record is covered by one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    flt = flt or ExportFilter()
    if checkpoint and flt.end is None and log.checkpoint_due(0):
        log.checkpoint()
    signer = log.signer
    span = export_range(log, flt)
    partial = out.with_name(out.name + ".partial")
    count = omitted = 0
    first_prev = first_hash = last_hash = None
    checkpoints: list[dict[str, Any]] = []
    anchor = None
    try:
        with log.db.transaction() as tx, partial.open("w", encoding="utf-8", newline="") as fh:
            snapshot(log.db, tx)
            writer = _Writer(fh, fmt)
            if span.size:
                anchor = latest_anchor(tx)
                if anchor is not None and anchor.get("seq") != span.first_seq - 1:
                    anchor = None
                checkpoints = [
                    json.loads(r[0]) for r in tx.fetchall(
                        "SELECT statement FROM audit_checkpoints WHERE seq >= ? AND seq <= ? ORDER BY seq, time",
                        (span.first_seq, span.last_seq))
                ]
                rows = pages(tx, "SELECT seq, body, prev_hash, hash FROM audit_records WHERE seq <= ? AND seq > ?",
                             (span.last_seq,), span.first_seq - 1)
                for seq, body_text, prev_hash, own_hash in rows:
                    try:
                        record = stored_record(body_text, prev_hash, own_hash)
                    except (TypeError, ValueError) as exc:
                        raise AuditError(
                            f"audit record {seq} in the store is unreadable: run `aduana audit verify --store`"
                        ) from exc
                    body = {k: v for k, v in record.items() if k not in ("prev_hash", "hash")}
                    if flt.includes(body):
                        writer.record(record)
                        count += 1
                    else:
                        writer.omitted(int(seq), prev_hash, own_hash, body_digest(body).hex())
                        omitted += 1
                    if first_hash is None:
                        first_prev, first_hash = prev_hash, own_hash
                    last_hash = own_hash
                    if progress:
                        progress(1)
            fh.flush()
            os.fsync(fh.fileno())
        head_seq, head_hash = log.head()
        manifest = signer.sign({
            "type": "manifest",
            "format": fmt,
            "file": out.name,
            "file_sha256": file_sha256(partial),
            "exported_at": format_time(log.now()),
            "filter": {
                "from": format_time(flt.start) if flt.start else None,
                "to": format_time(flt.end) if flt.end else None,
                "contract": flt.contract,
                "vendor": flt.vendor,
            },
            "complete": flt.complete,
            "first_seq": span.first_seq if span.size else None,
            "last_seq": span.last_seq if span.size else None,
            "count": count,
            "omitted": omitted,
            "first_prev_hash": first_prev,
            "first_hash": first_hash,
            "last_hash": last_hash,
            "head": {"seq": head_seq, "hash": head_hash},
            "anchor": anchor,
            "checkpoints": checkpoints,
            "public_key": signer.public_pem,
        })
        manifest_file = manifest_path_for(out)
        tmp = manifest_file.with_name(manifest_file.name + ".partial")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(partial, out)
        os.replace(tmp, manifest_file)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest
