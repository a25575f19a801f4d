"""The audit writer: appends records to the hash chain, signs checkpoints of its head.

Rules this module keeps:

1. No access without a record: :meth:`AuditLog.append` returns only after the record is committed
   (SQLite ``synchronous=FULL``, PostgreSQL's durable commit); any failure raises :class:`AuditError`,
   and the caller must then fail the request closed. Concurrent appends share one commit
   (``gateway/audit/group.py``), each still returning only once its own record is committed.
2. One chain, one writer at a time: the head row ``audit_head`` is read and advanced inside the same
   write transaction that inserts the record. On SQLite the write transaction is ``BEGIN IMMEDIATE``,
   which serializes every process on the file; on PostgreSQL the head row is locked ``FOR UPDATE``,
   which serializes every process and replica. So sequence numbers are gap-free and the chain has no
   forks however many writers there are.
3. Time is read inside the lock, so within one clock, record times never go backwards.
4. A sink sees a record only after it is committed; a failing sink is logged (and its failure recorded
   once per outage) but never fails the request: the record is already safe in the store.
5. A checkpoint signs the head read under the same lock, so it names a (seq, hash) that really was
   the head at its time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.checkpoint import AuditSigner, keyring_public_keys
from gateway.audit.group import GroupCommit
from gateway.audit.record import (
    AuditEvent,
    canonical_digest,
    canonical_json,
    format_time,
    link_hash,
    parse_time,
    utcnow,
)
from gateway.errors import AuditError
from gateway.keys.keyring import KeyRing
from gateway.store.base import Database, Row, Transaction

Sink = Callable[[Mapping[str, Any]], object]
Clock = Callable[[], datetime]

_log = structlog.get_logger("aduana.audit")
PAGE = 1000


def lock_head(db: Database, tx: Transaction) -> tuple[int, str]:
    """Read the chain's head and hold its lock until ``tx`` ends (rule 2)."""
    if db.dialect == "postgresql":
        row = tx.fetchone("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
    else:  # the write transaction (BEGIN IMMEDIATE) already holds the database's write lock
        row = tx.fetchone("SELECT seq, hash FROM audit_head WHERE id = 1")
    if row is None:
        raise AuditError("the audit chain's head row is missing: run `aduana store migrate`")
    return int(row[0]), str(row[1])


def snapshot(db: Database, tx: Transaction) -> None:
    """Make every read of ``tx`` see one snapshot (call first). SQLite read transactions already do."""
    if db.dialect == "postgresql":
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def read_head(tx: Transaction) -> tuple[int, str]:
    row = tx.fetchone("SELECT seq, hash FROM audit_head WHERE id = 1")
    if row is None:
        raise AuditError("the audit chain's head row is missing: run `aduana store migrate`")
    return int(row[0]), str(row[1])


def pages(tx: Transaction, sql: str, params: tuple[Any, ...], after: int, size: int = PAGE) -> Iterator[Row]:
    """Rows of ``sql`` (which must filter ``seq > ?`` last and order by seq) in keyset pages.

    Pages instead of one server-side cursor, so two such streams can interleave on PostgreSQL and
    memory stays bounded on both stores.
    """
    while True:
        rows = tx.fetchall(f"{sql} ORDER BY seq LIMIT {int(size)}", (*params, after))
        yield from rows
        if len(rows) < size:
            return
        after = int(rows[-1][0])


def latest_anchor(tx: Transaction) -> dict[str, Any] | None:
    row = tx.fetchone("SELECT statement FROM audit_anchors ORDER BY seq DESC LIMIT 1")
    if row is None:
        return None
    try:
        anchor = json.loads(row[0])
    except ValueError as exc:
        raise AuditError("the retention anchor in the store is unreadable: run `aduana audit verify --store`") from exc
    if not isinstance(anchor, dict):
        raise AuditError("the retention anchor in the store is unreadable: run `aduana audit verify --store`")
    return anchor


def stored_record(body_text: str, prev_hash: str, own_hash: str) -> dict[str, Any]:
    """A stored row as the record dict callers see; TypeError or ValueError when the body is not a JSON object."""
    record = json.loads(body_text)
    if not isinstance(record, dict):
        raise TypeError("the stored body is not a JSON object")
    record["prev_hash"] = prev_hash
    record["hash"] = own_hash
    return record


def plugin_sink(plugins: Any) -> Sink:
    """A sink that hands records to every ``aduana_audit_record`` hook implementation.

    ``plugins`` is the :class:`gateway.pluginmanager.Plugins` facade; a failing sink makes it
    raise, so :meth:`AuditLog.notify_sink` logs them.
    """

    def sink(record: Mapping[str, Any]) -> None:
        failures = plugins.audit_record(record)
        if failures:
            names = ", ".join(name for name, _ in failures)
            raise RuntimeError(f"audit sinks failed: {names}") from failures[0][1]

    return sink


class AuditLog:
    """The audit trail of one store. Safe to share between threads; one per process is enough."""

    def __init__(
        self,
        db: Database,
        keyring: KeyRing,
        sink: Sink | None = None,
        *,
        now: Clock = utcnow,
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.sink = sink
        self.now = now
        self._signer: AuditSigner | None = None
        self._lock = threading.Lock()
        self._sink_failing = False
        self._group = GroupCommit(self._write)

    # --- keys ------------------------------------------------------------------------------------

    @property
    def signer(self) -> AuditSigner:
        """The current audit key (loaded, or created on first use, outside any transaction)."""
        with self._lock:
            if self._signer is None:
                try:
                    self._signer = AuditSigner.from_keyring(self.keyring)
                except Exception as exc:
                    raise AuditError(f"the audit signing key is unavailable: {exc}") from exc
            return self._signer

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every audit public key of this store (old versions too), by key id."""
        _ = self.signer  # make sure version 1 exists before listing
        return keyring_public_keys(self.keyring)

    # --- writing -----------------------------------------------------------------------------------

    def append(self, event: AuditEvent) -> dict[str, Any]:
        """Durably record ``event``; return the stored record. Raise :class:`AuditError` if not written.

        Concurrent calls (from the store thread pool) are committed together: one transaction, one sync.
        """
        if not isinstance(event, AuditEvent):
            raise TypeError("append takes AuditEvent objects")
        record = self._group.append(event)
        self.notify_sink(record)  # by each caller, after its commit: a slow sink never holds up the group
        return record

    @property
    def group_commits(self) -> tuple[int, int]:
        """(groups, records) :meth:`append` committed so far: how many syncs group commit saved."""
        return self._group.groups, self._group.records

    def append_many(self, events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
        """Record several events in one transaction (all or none), in order."""
        batch = list(events)
        for event in batch:
            if not isinstance(event, AuditEvent):
                raise TypeError("append takes AuditEvent objects")
        records = self._write(batch)
        for record in records:
            self.notify_sink(record)
        return records

    def _write(self, batch: Sequence[AuditEvent]) -> list[dict[str, Any]]:
        """Commit ``batch`` in one transaction (all or none); no sink is called."""
        try:
            with self.db.transaction(write=True) as tx:
                return self.append_locked(tx, batch)
        except AuditError:
            raise
        except Exception as exc:  # fail closed: whatever went wrong, nothing was recorded
            raise AuditError(f"the audit record could not be written: {type(exc).__name__}: {exc}") from exc

    def append_locked(self, tx: Transaction, events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
        """Append inside an open write transaction (used by purge); the caller calls no sink."""
        seq, prev = lock_head(self.db, tx)
        records = []
        for event in events:
            seq += 1
            time = format_time(self.now())
            body = event.body(seq, time)
            # Once: the stored text and the hashed bytes are the same. The event checked its values.
            canonical = canonical_json(body, check=False)
            own = link_hash(prev, canonical_digest(canonical))
            tx.execute(
                "INSERT INTO audit_records (seq, time, contract, vendor, prev_hash, hash, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seq, time, body["contract"], body["vendor"], prev, own, canonical.decode("utf-8")),
            )
            records.append({**body, "prev_hash": prev, "hash": own})
            prev = own
        if records:
            tx.execute("UPDATE audit_head SET seq = ?, hash = ?, time = ? WHERE id = 1", (seq, prev, time))
        return records

    def notify_sink(self, record: Mapping[str, Any]) -> None:
        """Give a committed record to the sink; log a failure, never raise it (rule 4)."""
        if self.sink is None:
            return
        try:
            self.sink(dict(record))
        except Exception as exc:  # rule 4: a sink never fails the request
            _log.error("audit sink failed", seq=record.get("seq"), error=type(exc).__name__)
            with self._lock:
                first_failure, self._sink_failing = not self._sink_failing, True
            if first_failure:
                self._record_sink_failure(int(record["seq"]), exc)
            return
        if self._sink_failing:
            with self._lock:
                self._sink_failing = False
            _log.info("audit sink recovered", seq=record.get("seq"))

    def _record_sink_failure(self, seq: int, exc: Exception) -> None:
        event = AuditEvent(
            kind="lifecycle", action="audit.sink-failed", decision="failed", reason="sink_failed",
            details={"seq": seq, "error": type(exc).__name__},
        )
        try:  # not passed to the sink: it is the thing failing
            with self.db.transaction(write=True) as tx:
                self.append_locked(tx, [event])
        except Exception as write_exc:  # best effort: the outage is logged anyway
            _log.error("could not record the audit sink failure", error=type(write_exc).__name__)

    # --- the head and checkpoints ----------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record, or ``(0, GENESIS)`` for an empty chain."""
        try:
            with self.db.transaction() as tx:
                return read_head(tx)
        except AuditError:
            raise
        except Exception as exc:
            raise AuditError(f"cannot read the audit chain's head: {exc}") from exc

    def checkpoint(self) -> dict[str, Any]:
        """Sign the current head now and store the checkpoint; return it."""
        signer = self.signer  # before the transaction: creating the key needs its own
        try:
            with self.db.transaction(write=True) as tx:
                seq, head_hash = lock_head(self.db, tx)
                statement = signer.sign(
                    {"type": "checkpoint", "seq": seq, "hash": head_hash, "time": format_time(self.now())}
                )
                tx.execute(
                    "INSERT INTO audit_checkpoints (seq, time, hash, key_id, statement) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (seq, time) DO NOTHING",
                    (seq, statement["time"], head_hash, signer.key_id, canonical_json(statement).decode("utf-8")),
                )
        except AuditError:
            raise
        except Exception as exc:
            raise AuditError(f"the audit checkpoint could not be written: {exc}") from exc
        _log.info("audit checkpoint signed", seq=seq, key_id=signer.key_id)
        return statement

    def latest_checkpoint(self) -> dict[str, Any] | None:
        with self.db.transaction() as tx:
            row = tx.fetchone("SELECT statement FROM audit_checkpoints ORDER BY seq DESC, time DESC LIMIT 1")
        return json.loads(row[0]) if row else None

    def checkpoint_due(self, interval_seconds: float, now: datetime | None = None) -> bool:
        """True when the head moved since the last checkpoint and that one is ``interval_seconds`` old."""
        moment = now or self.now()
        seq, _ = self.head()
        latest = self.latest_checkpoint()
        if latest is None:
            return seq > 0
        if int(latest["seq"]) >= seq:
            return False
        return moment - parse_time(latest["time"]) >= timedelta(seconds=interval_seconds)
