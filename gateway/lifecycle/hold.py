"""Legal hold: suspend every deletion of one contract's data until the hold is released.

Rules this module keeps:
1. A hold stops the retention sweeper (each of its deleting transactions re-reads the hold under the
   contract's lock) and a termination's destruction steps (checked inside the transaction that would
   destroy the keys). It never stops revocation: ending a vendor's access destroys nothing.
2. A hold is refused once the contract's keys are destroyed: there is nothing left it could preserve.
3. Placing and releasing are audited in the same transaction as the change. The reason text is stored
   with the contract (``aduana contract status`` shows it); the audit record carries its SHA-256 only,
   because a reason may name people and audit records never hold a value.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from gateway.audit.log import AuditLog
from gateway.audit.record import AuditEvent, format_time
from gateway.lifecycle.state import (
    ContractState,
    LifecycleError,
    lock_contract,
    read_state,
    write_state,
)

MAX_REASON = 500


def reason_digest(reason: str) -> str:
    return "sha256:" + hashlib.sha256(reason.encode("utf-8")).hexdigest()


def place_hold(log: AuditLog, contract: str, vendor: str | None, reason: str, actor: str | None,
               now: datetime | None = None) -> ContractState:
    """Put ``contract`` on legal hold; raise :class:`LifecycleError` if it cannot be (rule 2)."""
    text = " ".join(reason.split())
    if not text:
        raise ValueError("a legal hold needs a reason (--reason TEXT)")
    if len(text) > MAX_REASON:
        raise ValueError(f"the reason must be at most {MAX_REASON} characters")
    moment = now or log.now()
    with log.db.transaction(write=True) as tx:
        lock_contract(log.db, tx, contract)
        state = read_state(tx, contract)
        if state.on_hold:
            raise LifecycleError(f"contract {contract} is already on legal hold since {state.hold_since} "
                                 f"({state.hold_reason}); release it first to change the reason")
        if state.keys_destroyed:
            raise LifecycleError(f"contract {contract}'s keys are already destroyed ({state.status}): "
                                 "nothing is left that a legal hold could preserve")
        held = replace(state, hold_reason=text, hold_since=format_time(moment), hold_actor=actor)
        write_state(tx, held, moment)
        (record,) = log.append_locked(tx, [AuditEvent(
            kind="lifecycle", action="contract.hold", contract=contract, vendor=vendor, actor=actor,
            reason="legal_hold", details={"reason_sha256": reason_digest(text), "status": state.status},
        )])
    log.notify_sink(record)
    return held


def release_hold(log: AuditLog, contract: str, vendor: str | None, actor: str | None,
                 now: datetime | None = None) -> ContractState:
    """Release ``contract``'s legal hold; deletions resume at the next sweep or termination run."""
    moment = now or log.now()
    with log.db.transaction(write=True) as tx:
        lock_contract(log.db, tx, contract)
        state = read_state(tx, contract)
        if not state.on_hold:
            raise LifecycleError(f"contract {contract} is not on legal hold")
        assert state.hold_reason is not None
        released = replace(state, hold_reason=None, hold_since=None, hold_actor=None)
        write_state(tx, released, moment)
        (record,) = log.append_locked(tx, [AuditEvent(
            kind="lifecycle", action="contract.release", contract=contract, vendor=vendor, actor=actor,
            reason="legal_hold_released",
            details={"reason_sha256": reason_digest(state.hold_reason), "held_since": state.hold_since},
        )])
    log.notify_sink(record)
    return released
