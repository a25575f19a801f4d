"""The lifecycle state of each contract, kept in the store: active, on legal hold, terminating, terminated.

The config lists a contract (it is reviewed in git); the store says where it is in its life. This module
reads and writes the ``contract_state`` row and answers the gateway's one question per request: may this
contract still be served?

Rules this module keeps:
1. A contract with no row is active and not on hold: rows are made on first change, never needed to serve.
2. Every change of a contract's row happens in a write transaction that first takes the contract's lock
   (:func:`lock_contract`): SQLite's write lock, or a PostgreSQL advisory lock per contract. So a hold,
   a sweeper batch and a termination step of one contract never interleave.
3. Once a termination has started (status ``terminating`` or ``terminated``) the contract is never served
   again: :func:`check_active` refuses it with :class:`ContractTerminated` (403 ``contract_terminated``),
   and a revoked credential of it is recognised as such (still 403, never 401) only when its secret matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from gateway.audit.record import format_time
from gateway.credentials import PREFIX, Credentials
from gateway.errors import AduanaError, AuthenticationError, ForbiddenError
from gateway.keys.crypto import constant_time_equal
from gateway.keys.keyring import KeyRing
from gateway.store.base import Database, Transaction, serialize

ACTIVE: Final = "active"
TERMINATING: Final = "terminating"
TERMINATED: Final = "terminated"
#: The termination's steps in order; ``contract_state.step`` names the last one finished.
STEPS: Final = ("revoke", "handover", "shred_keys", "delete_rows", "compact", "certificate")


class LifecycleError(AduanaError):
    """A lifecycle command cannot do what was asked (the message says why and what to do)."""

    reason = "lifecycle_refused"
    status = 409
    public_message = "The contract's lifecycle state does not allow this."


class ContractTerminated(ForbiddenError):
    """A request of a contract whose termination has started: refused, and audited with its contract."""

    reason = "contract_terminated"
    public_message = "This contract has ended: its credentials no longer give access."

    def __init__(self, contract: str, credential_id: str | None) -> None:
        super().__init__(f"contract {contract} is terminated")
        self.contract = contract
        self.credential_id = credential_id


@dataclass(frozen=True)
class ContractState:
    """One contract's row (or the defaults of a contract without one)."""

    contract: str
    status: str = ACTIVE
    hold_reason: str | None = None
    hold_since: str | None = None
    hold_actor: str | None = None
    step: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    certificate: dict[str, Any] | None = None
    started_at: str | None = None
    terminated_at: str | None = None
    notified_at: str | None = None

    @property
    def on_hold(self) -> bool:
        return self.hold_since is not None

    @property
    def ended(self) -> bool:
        """Whether the contract may no longer be served (its termination has started)."""
        return self.status != ACTIVE

    def done(self, step: str) -> bool:
        """Whether termination step ``step`` has finished."""
        return self.step is not None and STEPS.index(self.step) >= STEPS.index(step)

    @property
    def keys_destroyed(self) -> bool:
        return self.done("shred_keys")


_COLUMNS = ("contract", "status", "hold_reason", "hold_since", "hold_actor", "step", "progress", "certificate",
            "started_at", "terminated_at", "notified_at")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM contract_state"  # noqa: S608 - constant column names


def _from_row(row: tuple[Any, ...]) -> ContractState:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["progress"] = json.loads(values["progress"] or "{}")
    values["certificate"] = json.loads(values["certificate"]) if values["certificate"] else None
    return ContractState(**values)


def lock_contract(db: Database, tx: Transaction, contract: str) -> None:
    """Serialize ``tx`` with every other change of ``contract``'s lifecycle (rule 2)."""
    serialize(db, tx, f"contract:{contract}")


def read_state(tx: Transaction, contract: str) -> ContractState:
    row = tx.fetchone(f"{_SELECT} WHERE contract = ?", (contract,))
    return _from_row(row) if row else ContractState(contract)


def all_states(db: Database) -> dict[str, ContractState]:
    """Every contract the store has a row for."""
    with db.transaction() as tx:
        return {s.contract: s for s in map(_from_row, tx.fetchall(f"{_SELECT} ORDER BY contract"))}


def state_of(db: Database, contract: str) -> ContractState:
    with db.transaction() as tx:
        return read_state(tx, contract)


def write_state(tx: Transaction, state: ContractState, now: datetime) -> None:
    """Store ``state`` (insert or update) inside an open write transaction holding the contract's lock."""
    tx.execute("INSERT INTO contract_state (contract, updated_at) VALUES (?, ?) ON CONFLICT (contract) DO NOTHING",
               (state.contract, format_time(now)))
    tx.execute(
        "UPDATE contract_state SET status = ?, hold_reason = ?, hold_since = ?, hold_actor = ?, step = ?,"
        " progress = ?, certificate = ?, started_at = ?, terminated_at = ?, notified_at = ?, updated_at = ?"
        " WHERE contract = ?",
        (state.status, state.hold_reason, state.hold_since, state.hold_actor, state.step,
         json.dumps(state.progress, sort_keys=True, separators=(",", ":")),
         json.dumps(state.certificate, sort_keys=True, separators=(",", ":")) if state.certificate else None,
         state.started_at, state.terminated_at, state.notified_at, format_time(now), state.contract),
    )


def with_step(state: ContractState, step: str, result: Mapping[str, Any] | None) -> ContractState:
    """``state`` with termination step ``step`` finished and its result recorded."""
    progress = dict(state.progress)
    if result is not None:
        progress[step] = dict(result)
    return replace(state, step=step, progress=progress)


def held_contracts(tx: Transaction) -> set[str]:
    return {str(r[0]) for r in tx.fetchall("SELECT contract FROM contract_state WHERE hold_since IS NOT NULL")}


# --- the gateway's question: may this contract be served? ----------------------------------------------


#: How often a running gateway looks for contracts whose termination started, to drop their keys.
KEY_EVICTION_SECONDS: Final = 5.0


def forget_ended_keys(db: Database, keyring: KeyRing) -> list[str]:
    """Drop from ``keyring``'s memory the keys of every contract whose termination has started.

    A termination run by ``aduana contract terminate`` (another process) shreds the keys in the store;
    this makes a running gateway let go of its unwrapped copies too. Returns the contracts whose keys
    were still held.
    """
    ended = [c for c, s in all_states(db).items() if s.ended]
    return [c for c in ended if keyring.forget_contract(c)]


def check_active(db: Database, contract: str, credential_id: str | None = None) -> None:
    """Raise :class:`ContractTerminated` when ``contract``'s termination has started (rule 3)."""
    with db.transaction() as tx:
        row = tx.fetchone("SELECT status FROM contract_state WHERE contract = ?", (contract,))
    if row is not None and row[0] != ACTIVE:
        raise ContractTerminated(contract, credential_id)


def check_still_serving(db: Database, contract: str, credential_id: str) -> None:
    """Re-check a principal verified a moment ago, in one read of the store.

    Raise :class:`ContractTerminated` when ``contract``'s termination has started (as :func:`check_active`)
    and :class:`AuthenticationError` when the API key ``credential_id`` no longer exists or was revoked.
    """
    with db.transaction() as tx:
        row = tx.fetchone(
            "SELECT (SELECT status FROM contract_state WHERE contract = ?),"
            " EXISTS (SELECT 1 FROM credentials WHERE key_id = ? AND revoked_at IS NULL)",
            (contract, credential_id),
        )
    status, key_active = row if row is not None else (None, False)
    if status is not None and status != ACTIVE:
        raise ContractTerminated(contract, credential_id)
    if not key_active:
        raise AuthenticationError("unknown or revoked API key")


def ended_credential(credentials: Credentials, presented: str) -> ContractTerminated | None:
    """The refusal for an API key of a terminated contract, or ``None`` for any other key.

    Called only for a key :meth:`Credentials.verify` did not accept. The secret is checked in constant
    time first, so a guessed or forged key stays a plain 401 and learns nothing about any contract.
    """
    if not presented.startswith(PREFIX):
        return None
    rest = presented[len(PREFIX):]
    key_id, sep, secret = rest[:14], rest[14:15], rest[15:]  # the layout Credentials.issue makes
    if sep != "_" or not key_id.startswith("k_") or not secret:
        return None
    # Credentials has no public lookup of a revoked key nor "hash this secret": its store and keyed hash
    # are the ones verify() uses.
    with credentials._db.transaction() as tx:
        row = tx.fetchone(
            "SELECT c.contract, c.secret_hash, s.status FROM credentials c"
            " JOIN contract_state s ON s.contract = c.contract WHERE c.key_id = ?",
            (key_id,),
        )
    if row is None or row[2] == ACTIVE:
        return None
    if not constant_time_equal(bytes(row[1]), credentials._hash(secret)):
        return None
    return ContractTerminated(str(row[0]), key_id)
