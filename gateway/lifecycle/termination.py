"""Contract termination: revoke, hand over, crypto-shred, delete, compact, certify — resumable, exactly once.

Rules this module keeps:
1. The termination is a state machine over :data:`gateway.lifecycle.state.STEPS`. Each step ends with a
   write transaction, under the contract's lock, that re-reads the state, does nothing if the step is
   already recorded, and otherwise records it together with its audit record. Whatever a step does
   outside a transaction (writing the bundle, deleting in batches, compacting) is idempotent, so a run
   killed at any point and run again continues from the recorded step and finishes exactly once.
2. Revocation comes first and always happens, even under a legal hold: from its commit on, every
   request of the contract is refused (``contract_terminated``). A hold stops the run before the keys
   are destroyed; the handover, which destroys nothing, may still be written.
3. The keys are destroyed in one transaction that also counts what they protect and stores that count
   with the step: the certificate is built from those stored counts, so a rerun after a crash issues the
   same truthful certificate. Vault rows are then deleted in batches and the store compacted (SQLite
   ``secure_delete`` + ``VACUUM`` + WAL truncation; PostgreSQL ``VACUUM``), so no ciphertext remains.
4. Before signing, any key or row of the contract that appeared after the destruction (a request that
   was already in flight when the credentials were revoked) is destroyed too and listed as ``late``: no
   certificate claims what was not destroyed, and none leaves out what was.
5. The certificate is issued in the same transaction that marks the contract terminated, and names the
   audit head read under the chain's lock in that transaction. Plugins hear of it after it is durable.

Test hook: when the environment variable ``ADUANA_TEST_KILL_AT`` names a point in :data:`KILL_POINTS`,
the process kills itself with SIGKILL right after that point's durable commit. Tests use it to prove
rule 1; nothing else should set it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from gateway.audit.log import AuditLog, lock_head
from gateway.audit.record import AuditEvent, Decision, format_time
from gateway.errors import IntegrityError
from gateway.keys.keyring import KeyRing
from gateway.keys.rotation import marker_name
from gateway.lifecycle import certificate as certs
from gateway.lifecycle.handover import BundleInfo, Entry, HandoverTarget, load_recipient, write_bundle_file
from gateway.lifecycle.rules import ContractPolicy
from gateway.lifecycle.state import (
    TERMINATED,
    TERMINATING,
    ContractState,
    LifecycleError,
    lock_contract,
    read_state,
    state_of,
    with_step,
    write_state,
)
from gateway.pluginmanager import Plugins
from gateway.store.base import Transaction
from gateway.vault import VAULT

KILL_ENV: Final = "ADUANA_TEST_KILL_AT"
KILL_POINTS: Final = ("revoke", "handover-written", "handover", "shred_keys", "delete_rows-batch", "delete_rows",
                      "compact", "certificate")
BATCH: Final = 500


def _kill_point(name: str) -> None:
    """The test hook of the module doc: die here, uncleanly, when asked to."""
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Preview:
    """What a run would do now (``--dry-run``); changes nothing."""

    contract: str
    vendor: str
    status: str
    step: str | None
    hold: str | None
    credentials: list[str]
    keys: list[dict[str, Any]]
    vault: int
    audit_records: int
    handover: HandoverTarget | None
    next_steps: list[str]


@dataclass
class Outcome:
    """What a run did: ``status`` is ``terminated`` or ``held`` (stopped before destruction)."""

    contract: str
    status: str
    ran: list[str] = field(default_factory=list)
    certificate: dict[str, Any] | None = None
    already: bool = False
    notify_failures: list[str] = field(default_factory=list)


class Termination:
    """Terminate one contract of one store (see the module doc for the rules)."""

    def __init__(self, log: AuditLog, keyring: KeyRing, policy: ContractPolicy, plugins: Plugins | None = None,
                 *, actor: str | None = None, batch: int = BATCH) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.log, self.db, self.keyring = log, log.db, keyring
        self.policy, self.contract, self.vendor = policy, policy.contract, policy.vendor
        self.plugins, self.actor, self.batch = plugins, actor, batch

    # --- running -----------------------------------------------------------------------------------

    def run(self, handover: HandoverTarget | None = None) -> Outcome:
        """Run (or resume) the termination as far as it can go now."""
        state = state_of(self.db, self.contract)
        if state.status == TERMINATED:
            outcome = Outcome(self.contract, TERMINATED, certificate=state.certificate, already=True)
            self._notify(state, outcome)
            return outcome
        target = self._target(state, handover)
        outcome = Outcome(self.contract, TERMINATING)
        steps: list[tuple[str, Callable[[], bool]]] = [
            ("revoke", lambda: self._revoke(target)), ("handover", lambda: self._handover(target)),
            ("shred_keys", self._shred), ("delete_rows", self._delete_rows), ("compact", self._compact),
            ("certificate", self._certify),
        ]
        for name, step in steps:
            if state_of(self.db, self.contract).done(name) or (name == "handover" and target is None):
                continue
            if not step():
                outcome.status = "held"
                return outcome
            outcome.ran.append(name)
        final = state_of(self.db, self.contract)
        outcome.status, outcome.certificate = TERMINATED, final.certificate
        self._notify(final, outcome)
        return outcome

    def _target(self, state: ContractState, given: HandoverTarget | None) -> HandoverTarget | None:
        """The handover of this run: the one asked for, or the one the interrupted run recorded."""
        stored = state.progress.get("revoke", {}).get("request", {}).get("handover")
        if given is None:
            resume = stored and not state.done("handover")
            return HandoverTarget(stored["public_pem"], stored["out"]) if resume else None
        if stored and (stored["recipient"] != given.recipient or stored["out"] != given.out):
            raise LifecycleError(f"the termination of {self.contract} was started with a handover to key "
                                 f"{stored['recipient']} at {stored['out']}: resume it with the same options")
        if state.keys_destroyed and "handover" not in state.progress:
            raise LifecycleError(f"{self.contract}'s keys are already destroyed: a handover is no longer possible")
        return None if state.done("handover") else given

    def _commit(self, step: str, result: dict[str, Any] | None, action: str, details: dict[str, Any],
                tx_work: Any = None, **changes: Any) -> bool:
        """Record ``step`` (with its audit record) unless another run did; return whether this run did."""
        moment = self.log.now()
        with self.db.transaction(write=True) as tx:
            lock_contract(self.db, tx, self.contract)
            state = read_state(tx, self.contract)
            if state.done(step):
                return False
            if tx_work is not None:
                extra = tx_work(tx, state)
                result, details = {**(result or {}), **extra}, {**details, **extra}
            write_state(tx, replace(with_step(state, step, result), **changes), moment)
            (record,) = self.log.append_locked(tx, [self._event(action, details)])
        self.log.notify_sink(record)
        return True

    def _event(self, action: str, details: dict[str, Any], *, decision: Decision = "done",
               reason: str = "contract_terminated") -> AuditEvent:
        return AuditEvent(kind="lifecycle", action=action, contract=self.contract, vendor=self.vendor,
                          actor=self.actor, decision=decision, reason=reason,
                          policy=[p.as_dict() for p in self.policy.packs], details=details)

    # --- the steps -----------------------------------------------------------------------------------

    def _revoke(self, target: HandoverTarget | None) -> bool:
        moment = self.log.now()
        request = {"actor": self.actor, "handover": target.as_dict() if target else None}

        def revoke(tx: Transaction, state: ContractState) -> dict[str, Any]:
            revoked = tx.execute("UPDATE credentials SET revoked_at = ? WHERE contract = ? AND revoked_at IS NULL",
                                 (moment.isoformat(), self.contract))
            ids = [str(r[0]) for r in tx.fetchall("SELECT key_id FROM credentials WHERE contract = ? ORDER BY key_id",
                                                  (self.contract,))]
            return {"credentials_revoked": revoked, "credential_ids": ids, "on_hold": state.on_hold}

        self._commit("revoke", {"request": request}, "contract.revoke", {}, revoke,
                     status=TERMINATING, started_at=format_time(moment))
        _kill_point("revoke")
        return True

    def _entries(self) -> Iterator[Entry]:
        """The contract's vault in the clear, page by page (bounded memory)."""
        after = ""
        while True:
            with self.db.transaction() as tx:
                rows = tx.fetchall(
                    "SELECT token, entity_type, key_version, ciphertext, created_at FROM vault"
                    " WHERE contract = ? AND token > ? ORDER BY token LIMIT ?",
                    (self.contract, after, self.batch),
                )
            for token, entity_type, version, blob, created in rows:
                try:
                    value: str | None = self.keyring.open_record(VAULT, self.contract, str(token), int(version),
                                                                 bytes(blob)).decode("utf-8")
                except IntegrityError:
                    value = None  # listed as unreadable, so the company knows what it cannot get back
                yield Entry(str(token), str(entity_type), value, str(created))
            if len(rows) < self.batch:
                return
            after = str(rows[-1][0])

    def _handover(self, target: HandoverTarget | None) -> bool:
        assert target is not None
        state = state_of(self.db, self.contract)
        if state.keys_destroyed:
            raise LifecycleError(f"{self.contract}'s keys are already destroyed: a handover is no longer possible")
        info: BundleInfo = write_bundle_file(Path(target.out), load_recipient(target.public_pem.encode("ascii")),
                                             self.contract, self.vendor, format_time(self.log.now()), self._entries())
        _kill_point("handover-written")
        result = {"entries": info.entries, "unreadable": info.unreadable, "sha256": info.sha256,
                  "recipient": info.recipient, "scheme": info.scheme, "file": Path(target.out).name}
        self._commit("handover", result, "contract.handover", result)
        _kill_point("handover")
        return True

    def _shred(self) -> bool:
        """Destroy the keys and record what they protected, in one transaction (rule 3)."""
        with self.db.transaction(write=True) as tx:
            lock_contract(self.db, tx, self.contract)
            state = read_state(tx, self.contract)
            if state.done("shred_keys"):
                return True
            if state.on_hold:
                (record,) = self.log.append_locked(tx, [self._event(
                    "contract.terminate", {"stopped_before": "shred_keys", "held_since": state.hold_since},
                    decision="blocked", reason="legal_hold")])
                held = True
            else:
                held = False
                found = self._inventory(tx)
                tx.execute("DELETE FROM data_keys WHERE contract = ?", (self.contract,))
                tx.execute("DELETE FROM store_meta WHERE name IN (?, ?)",
                           (marker_name(self.contract), f"retention-pending:{self.contract}:vault"))
                write_state(tx, with_step(state, "shred_keys", found), self.log.now())
                (record,) = self.log.append_locked(tx, [self._event("contract.shred-keys", {
                    "keys_destroyed": len(found["keys"]), "key_ids": [k["key_id"] for k in found["keys"]],
                    "vault": found["records"]["vault"]})])
        self.log.notify_sink(record)
        if held:
            return False
        _kill_point("shred_keys")
        return True

    def _inventory(self, tx: Transaction) -> dict[str, Any]:
        """What the contract's keys protect, counted inside the destroying transaction."""
        keys = [{"key_id": str(k), "purpose": str(p), "version": int(v), "status": str(s), "created_at": str(c)}
                for k, p, v, s, c in tx.fetchall(
                    "SELECT key_id, purpose, version, status, created_at FROM data_keys WHERE contract = ?"
                    " ORDER BY purpose, version, key_id", (self.contract,))]
        by_type = {str(t): int(n) for t, n in tx.fetchall(
            "SELECT entity_type, COUNT(*) FROM vault WHERE contract = ? GROUP BY entity_type ORDER BY entity_type",
            (self.contract,))}
        audit = tx.fetchone("SELECT COUNT(*) FROM audit_records WHERE contract = ?", (self.contract,))
        return {"keys": keys, "records": {"vault": sum(by_type.values()), "payloads": 0},
                "vault_by_entity_type": by_type, "audit_records_retained": int(audit[0]) if audit else 0}

    def _delete_batch(self) -> int:
        with self.db.transaction(write=True) as tx:
            lock_contract(self.db, tx, self.contract)
            return tx.execute(
                "DELETE FROM vault WHERE contract = ? AND token IN (SELECT token FROM vault WHERE contract = ?"
                " ORDER BY token LIMIT ?)", (self.contract, self.contract, self.batch))

    def _delete_rows(self) -> bool:
        first = True
        while True:
            deleted = self._delete_batch()
            if first:
                _kill_point("delete_rows-batch")
                first = False
            if deleted < self.batch:
                break
        planned = state_of(self.db, self.contract).progress["shred_keys"]["records"]
        self._commit("delete_rows", {"vault": planned["vault"]}, "contract.delete-records", dict(planned))
        _kill_point("delete_rows")
        return True

    def _compact(self) -> bool:
        self.db.compact()
        self._commit("compact", {"dialect": self.db.dialect}, "contract.compact",
                     {"dialect": self.db.dialect, "files": len(self.db.files())})
        _kill_point("compact")
        return True

    def _destroy_late(self, tx: Transaction, state: ContractState) -> ContractState:
        """Destroy what appeared after the destruction (rule 4), adding it to the recorded ``late`` list."""
        keys = [str(r[0]) for r in tx.fetchall("SELECT key_id FROM data_keys WHERE contract = ? ORDER BY key_id",
                                               (self.contract,))]
        tx.execute("DELETE FROM data_keys WHERE contract = ?", (self.contract,))
        vault = tx.execute("DELETE FROM vault WHERE contract = ?", (self.contract,))
        if not keys and not vault:
            return state
        late = state.progress.get("late", {"keys": [], "vault": 0})
        late = {"keys": [*late["keys"], *keys], "vault": int(late["vault"]) + vault}
        return replace(state, progress={**state.progress, "late": late})

    def _late(self) -> None:
        """Rule 4 before signing: stragglers destroyed (and recorded durably), then compacted away."""
        with self.db.transaction(write=True) as tx:
            lock_contract(self.db, tx, self.contract)
            state = read_state(tx, self.contract)
            found = self._destroy_late(tx, state)
            if found is not state:
                write_state(tx, found, self.log.now())
        if found is not state:
            self.db.compact()

    def _certify(self) -> bool:
        self._late()
        private = certs.signing_key(self.keyring)  # before the transaction: it may create the key
        moment = self.log.now()
        with self.db.transaction(write=True) as tx:
            lock_contract(self.db, tx, self.contract)
            before = read_state(tx, self.contract)
            if before.status == TERMINATED:
                return True
            state = self._destroy_late(tx, before)  # the last word: nothing of the contract outlives this
            seq, head = lock_head(self.db, tx)
            cert = certs.sign(self._body(state, seq, head, format_time(moment)), private)
            done = replace(with_step(state, "certificate", {"digest": certs.digest(cert)}),
                           status=TERMINATED, certificate=cert, terminated_at=cert["time"])
            write_state(tx, done, moment)
            (record,) = self.log.append_locked(tx, [self._event("contract.terminate", {
                "certificate": certs.digest(cert), "audit_head_seq": seq,
                "keys_destroyed": len(cert["destroyed"]["keys"]), "vault": cert["destroyed"]["records"]["vault"]})])
        self.log.notify_sink(record)
        if state is not before:
            self.db.compact()
        _kill_point("certificate")
        return True

    def _body(self, state: ContractState, seq: int, head: str, now: str) -> dict[str, Any]:
        progress = state.progress
        late = progress.get("late", {"keys": [], "vault": 0})
        shred, revoke = progress["shred_keys"], progress["revoke"]
        handover = progress.get("handover")
        audit_rule = self.policy.retention.get("audit")
        kept = f"{audit_rule[0]} (pack {audit_rule[1]})" if audit_rule else "the audit retention period"
        return {
            "contract": self.contract,
            "vendor": self.vendor,
            "started_at": state.started_at,
            "time": now,
            "actor": self.actor,
            "audit_head": {"seq": seq, "hash": head},
            "destroyed": {"keys": shred["keys"], "records": shred["records"],
                          "vault_by_entity_type": shred["vault_by_entity_type"], "late": late},
            "revoked": {"credentials": len(revoke["credential_ids"]), "credential_ids": revoke["credential_ids"],
                        "revoked_by_termination": revoke["credentials_revoked"]},
            "retained": {"audit_records": shred["audit_records_retained"],
                         "why": f"audit records hold no values; they are kept for {kept}"},
            "handover": {k: handover[k] for k in ("entries", "unreadable", "sha256", "recipient", "scheme")}
            if handover else None,
            "store": {"dialect": self.db.dialect, "compacted": True},
            "policy": self.policy.as_dict(),
            "rule": "contract termination: the contract's data keys and token keys are destroyed (crypto-shredding) "
                    "and its vault entries deleted and compacted away",
        }

    def _notify(self, state: ContractState, outcome: Outcome) -> None:
        """Tell the plugins once the certificate is durable; a crash before it is caught up on rerun."""
        if state.notified_at is not None or state.certificate is None:
            return
        failures = self.plugins.contract_terminated(self.contract, state.certificate) if self.plugins else []
        outcome.notify_failures = [f"{f.plugin}: {type(f.error).__name__}" for f in failures]
        moment = self.log.now()
        with self.db.transaction(write=True) as tx:
            lock_contract(self.db, tx, self.contract)
            current = read_state(tx, self.contract)
            if current.notified_at is not None:
                return
            write_state(tx, replace(current, notified_at=format_time(moment)), moment)
            records = self.log.append_locked(tx, [self._event(
                "contract.notify-failed", {"plugins": [f.plugin for f in failures],
                                           "errors": [type(f.error).__name__ for f in failures]},
                decision="failed", reason="plugin_failed")] if failures else [])
        for record in records:
            self.log.notify_sink(record)

    # --- a dry run ---------------------------------------------------------------------------------

    def preview(self, handover: HandoverTarget | None = None) -> Preview:
        """What :meth:`run` would do now, read in one transaction; changes nothing."""
        with self.db.transaction() as tx:
            state = read_state(tx, self.contract)
            creds = [str(r[0]) for r in tx.fetchall(
                "SELECT key_id FROM credentials WHERE contract = ? AND revoked_at IS NULL ORDER BY key_id",
                (self.contract,))]
            found = self._inventory(tx)
        target = None if state.status == TERMINATED else self._target(state, handover)
        steps = [s for s in ("revoke", "handover", "shred_keys", "delete_rows", "compact", "certificate")
                 if not state.done(s) and not (s == "handover" and target is None)]
        if state.on_hold and "shred_keys" in steps:
            steps = steps[: steps.index("shred_keys")]
        hold = f"since {state.hold_since}: {state.hold_reason}" if state.on_hold else None
        return Preview(self.contract, self.vendor, state.status, state.step, hold, creds, found["keys"],
                       found["records"]["vault"], found["audit_records_retained"], target, steps)
