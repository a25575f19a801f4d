"""Group commit: concurrent appends share one durable transaction, each caller still waits for its own.

Rules this module keeps (on top of ``gateway/audit/log.py``'s):
1. No access without a record: :meth:`GroupCommit.append` returns only after the transaction holding the
   caller's record is committed, and raises if that transaction failed. A caller never returns early
   because *another* record was written.
2. All or none per group: one transaction per group, so a failure fails every request of the group
   (each then fails closed); none of them is in the chain.
3. Chain order is arrival order: a group is appended in the order its callers arrived, under the chain's
   head lock as before (``AuditLog.append_many``), so sequence numbers stay gap-free and fork-free.
4. Waiting is the only batching: a group is whatever arrived while the previous commit was in flight. No
   timer delays a lone request, so an idle gateway pays exactly what it paid before.

The pattern is the classic database group commit (a leader commits for the followers queued behind it,
as in PostgreSQL's WAL flush or SQLite's WAL writers); it turns one ``fsync`` per request into one per
group when requests overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from gateway.audit.record import AuditEvent
from gateway.errors import AuditError

Commit = Callable[[Sequence[AuditEvent]], list[dict[str, Any]]]


class _Slot:
    __slots__ = ("done", "error", "event", "record")

    def __init__(self, event: AuditEvent) -> None:
        self.event = event
        self.done = False
        self.record: dict[str, Any] | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """Funnels concurrent single-record appends (from any threads) into grouped ``commit`` calls."""

    def __init__(self, commit: Commit, *, max_group: int = 256) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._commit = commit
        self._max = max_group
        self._cv = threading.Condition()
        self._queue: list[_Slot] = []
        self._busy = False
        #: Groups and records committed so far: records / groups is how many fsyncs group commit saved.
        self.groups = 0
        self.records = 0

    def append(self, event: AuditEvent) -> dict[str, Any]:
        """Commit ``event`` (in a group with any concurrent ones); return its stored record (rule 1)."""
        slot = _Slot(event)
        with self._cv:
            self._queue.append(slot)
            while True:
                while self._busy and not slot.done:
                    self._cv.wait()
                if slot.done:
                    return self._outcome(slot)
                self._busy = True  # this thread leads the next group, which holds its own slot
                group, self._queue = self._queue[: self._max], self._queue[self._max:]
                self._cv.release()
                try:
                    self._run(group)
                finally:
                    self._cv.acquire()
                    self._busy = False
                    self._cv.notify_all()

    def _run(self, group: list[_Slot]) -> None:
        try:
            records = self._commit([s.event for s in group])
            if len(records) != len(group):
                raise RuntimeError("the audit writer returned a different number of records")
        except BaseException as exc:  # rule 2: every caller of the group sees the failure
            for s in group:
                s.error, s.done = exc, True
            if not isinstance(exc, Exception):
                raise
            return
        for s, record in zip(group, records, strict=True):
            s.record, s.done = record, True
        self.groups += 1
        self.records += len(group)

    @staticmethod
    def _outcome(slot: _Slot) -> dict[str, Any]:
        if slot.error is not None:  # a fresh error per caller: threads must not share one traceback
            raise AuditError(f"the audit record could not be written: {slot.error}") from slot.error
        assert slot.record is not None
        return slot.record
