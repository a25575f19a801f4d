"""Purge old audit records and leave a signed anchor where the remaining chain resumes.

Rules this module keeps:

1. A purge removes a *prefix* of the chain: every record before the first one written at or after the
   cutoff. The chain after it is untouched, so it still verifies — from the anchor on.
2. The anchor is a signed statement of the last purged record's (seq, hash), the cutoff, the purge
   time and how many records went; the first remaining record's ``prev_hash`` equals the anchor's
   ``hash``. Checkpoints of purged positions are removed with them: the anchor supersedes them.
3. Anchor, deletion and the ``retention.purge`` audit record that reports the purge are one
   transaction under the chain's lock: all happen or none does.
4. A cutoff younger than the retention period is refused. The chain is shared by every contract, so
   the period is the *longest* ``retention.audit`` of any contract's effective policy; without one it
   is six years, what HIPAA asks of audit documentation (45 CFR 164.316(b)(2)).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from gateway.audit.log import AuditLog, latest_anchor, lock_head, read_head
from gateway.audit.record import AuditEvent, canonical_json, format_time
from gateway.errors import AuditError

#: Six years (6 × 365 + 2 leap days), the HIPAA retention for audit documentation.
DEFAULT_MIN_RETENTION: Final = timedelta(days=2192)




def duration(iso: str) -> timedelta:
    """An ISO 8601 period in years, months, weeks, days (``P6Y``, ``P90D``), rounded up to whole days."""
    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", iso)
    if not m or iso == "P":
        raise ValueError(f"{iso!r} is not an ISO 8601 period such as P6Y or P90D")
    years, months, weeks, days = (int(g or 0) for g in m.groups())
    return timedelta(days=math.ceil(years * 365.25 + months * 30.44 + weeks * 7 + days))


def audit_retention(periods: Iterable[tuple[str, str]]) -> tuple[timedelta, str]:
    """The longest of the effective policies' ``(period, pack label)`` for audit records, and its source."""
    best: tuple[timedelta, str] | None = None
    for iso, source in periods:
        period = duration(iso)
        if best is None or period > best[0]:
            best = (period, f"{iso} from pack {source}")
    return best or (DEFAULT_MIN_RETENTION, "six years (no policy pack sets retention.audit)")


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed (or, in a dry run, would remove)."""

    count: int
    first_seq: int | None
    through_seq: int | None
    before: str
    dry_run: bool
    anchor: dict[str, Any] | None = None
    record: dict[str, Any] | None = None


def purge(
    log: AuditLog,
    before: datetime,
    *,
    dry_run: bool = False,
    actor: str | None = None,
    min_retention: timedelta = DEFAULT_MIN_RETENTION,
    now: datetime | None = None,
) -> PurgeResult:
    """Remove the records written before ``before`` (a prefix of the chain), leaving a signed anchor."""
    moment = now or log.now()
    if before.tzinfo is None:
        raise ValueError("the cutoff must be timezone-aware")
    if before > moment - min_retention:
        raise ValueError(
            f"the cutoff {format_time(before)} would remove records younger than the minimum retention "
            f"({min_retention.days} days): choose a cutoff before {format_time(moment - min_retention)}"
        )
    cutoff = format_time(before)
    signer = log.signer  # before the transaction: creating the key needs its own
    try:
        with log.db.transaction(write=not dry_run) as tx:
            head_seq, _ = lock_head(log.db, tx) if not dry_run else read_head(tx)
            previous = latest_anchor(tx)
            start = int(previous["seq"]) + 1 if previous else 1
            row = tx.fetchone("SELECT MIN(seq) FROM audit_records WHERE time >= ?", (cutoff,))
            keep_from = int(row[0]) if row and row[0] is not None else head_seq + 1
            through = keep_from - 1
            if through < start:
                return PurgeResult(0, None, None, cutoff, dry_run)
            count_row = tx.fetchone("SELECT COUNT(*) FROM audit_records WHERE seq <= ?", (through,))
            count = int(count_row[0]) if count_row else 0
            if dry_run:
                return PurgeResult(count, start, through, cutoff, True)
            last = tx.fetchone("SELECT hash, time FROM audit_records WHERE seq = ?", (through,))
            if last is None:
                raise AuditError(f"audit record {through} is missing: run `aduana audit verify --store`")
            anchor = signer.sign({
                "type": "anchor",
                "seq": through,
                "hash": str(last[0]),
                "record_time": str(last[1]),
                "time": format_time(moment),
                "before": cutoff,
                "purged_from": start,
                "purged_count": count,
            })
            tx.execute(
                "INSERT INTO audit_anchors (seq, time, statement) VALUES (?, ?, ?)",
                (through, anchor["time"], canonical_json(anchor).decode("utf-8")),
            )
            tx.execute("DELETE FROM audit_records WHERE seq <= ?", (through,))
            tx.execute("DELETE FROM audit_checkpoints WHERE seq <= ?", (through,))
            event = AuditEvent(
                kind="retention", action="retention.purge", decision="done", reason="retention_expired",
                actor=actor,
                details={"purged": count, "first_seq": start, "through_seq": through, "before": cutoff},
            )
            (record,) = log.append_locked(tx, [event])
    except (AuditError, ValueError):
        raise
    except Exception as exc:
        raise AuditError(f"the audit purge failed and nothing was removed: {exc}") from exc
    log.notify_sink(record)
    return PurgeResult(count, start, through, cutoff, False, anchor, record)
