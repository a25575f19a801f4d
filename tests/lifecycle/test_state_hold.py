"""Contract state, legal hold and release, and how a terminated contract's credentials are refused."""

from __future__ import annotations

import pytest
from lifecycle_support import POLICIES, Seeded, audit_bodies

from gateway.audit import AuditLog
from gateway.credentials import Credentials
from gateway.errors import AuthenticationError
from gateway.keys.keyring import KeyRing
from gateway.lifecycle.hold import place_hold, reason_digest, release_hold
from gateway.lifecycle.state import (
    ACTIVE,
    STEPS,
    ContractState,
    ContractTerminated,
    LifecycleError,
    all_states,
    check_active,
    check_still_serving,
    ended_credential,
    state_of,
)
from gateway.lifecycle.termination import Termination
from gateway.plugins.auth_apikey import aduana_authenticate
from gateway.store import Database


def test_a_contract_without_a_row_is_active_and_not_held(db: Database) -> None:
    state = state_of(db, "acme")
    assert state == ContractState("acme") and state.status == ACTIVE and not state.on_hold and not state.ended
    assert all_states(db) == {}
    check_active(db, "acme")


@pytest.mark.parametrize(
    ("step", "done", "not_done", "keys_destroyed"),
    [
        (None, [], list(STEPS), False),
        ("revoke", ["revoke"], ["handover", "shred_keys"], False),
        ("handover", ["revoke", "handover"], ["shred_keys"], False),
        ("shred_keys", ["revoke", "handover", "shred_keys"], ["delete_rows"], True),
        ("certificate", list(STEPS), [], True),
    ],
)
def test_steps_are_ordered(step: str | None, done: list[str], not_done: list[str], keys_destroyed: bool) -> None:
    state = ContractState("acme", status="terminating", step=step)
    assert [s for s in done if state.done(s)] == done
    assert [s for s in not_done if state.done(s)] == []
    assert state.keys_destroyed is keys_destroyed


def test_hold_and_release_are_stored_and_audited_without_the_reason_text(db: Database, log: AuditLog) -> None:
    reason = "Litigation hold: Jane Roe v. Acme, case 2025-17"
    held = place_hold(log, "acme", "Acme Vendor", reason, "cli:alice")
    assert held.on_hold and held.hold_reason == reason and held.hold_actor == "cli:alice"
    assert state_of(db, "acme").hold_reason == reason
    released = release_hold(log, "acme", "Acme Vendor", "cli:bob")
    assert not released.on_hold and state_of(db, "acme").hold_since is None
    (hold,) = audit_bodies(db, "contract.hold")
    (release,) = audit_bodies(db, "contract.release")
    assert hold["details"]["reason_sha256"] == reason_digest(reason) == release["details"]["reason_sha256"]
    assert hold["actor"] == "cli:alice" and release["actor"] == "cli:bob" and hold["contract"] == "acme"
    for record in (hold, release):
        assert "Jane Roe" not in str(record)


@pytest.mark.parametrize(
    ("reason", "error"),
    [("", ValueError), ("   \n ", ValueError), ("x" * 501, ValueError)],
)
def test_hold_needs_a_reason(log: AuditLog, reason: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        place_hold(log, "acme", None, reason, None)


def test_hold_twice_and_release_without_hold_are_refused(log: AuditLog) -> None:
    place_hold(log, "acme", None, "first", None)
    with pytest.raises(LifecycleError, match="already on legal hold"):
        place_hold(log, "acme", None, "second", None)
    release_hold(log, "acme", None, None)
    with pytest.raises(LifecycleError, match="not on legal hold"):
        release_hold(log, "acme", None, None)


def _bearer(key: str) -> str:
    return f"Bearer {key}"


def test_a_terminated_contracts_key_gets_403_only_with_its_secret(db: Database, keyring: KeyRing, log: AuditLog,
                                                                  seeded: Seeded) -> None:
    creds = Credentials(db, keyring)
    key = seeded.keys["acme"]
    assert aduana_authenticate(_bearer(key), {}, creds) is not None
    Termination(log, keyring, POLICIES["acme"]).run()
    with pytest.raises(ContractTerminated) as refused:
        aduana_authenticate(_bearer(key), {}, creds)
    assert refused.value.status == 403 and refused.value.reason == "contract_terminated"
    assert refused.value.contract == "acme" and refused.value.credential_id == key[4:18]
    forged = key[:19] + ("A" if key[19] != "A" else "B") + key[20:]
    for wrong in (forged, "adu_k_000000000000_nope", key[:18], "not-a-key"):
        with pytest.raises(AuthenticationError):
            aduana_authenticate(_bearer(wrong), {}, creds)
        assert ended_credential(creds, wrong) is None
    assert aduana_authenticate(_bearer(seeded.keys["globex"]), {}, creds) is not None


def test_a_revoked_key_of_an_active_contract_stays_401(db: Database, keyring: KeyRing, seeded: Seeded) -> None:
    creds = Credentials(db, keyring)
    creds.revoke(seeded.keys["acme"][4:18])
    with pytest.raises(AuthenticationError):
        aduana_authenticate(_bearer(seeded.keys["acme"]), {}, creds)


def test_a_key_issued_after_termination_is_refused_by_the_contract_check(
        db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded) -> None:
    Termination(log, keyring, POLICIES["acme"]).run()
    _, key = Credentials(db, keyring).issue("acme")
    principal = aduana_authenticate(_bearer(key), {}, Credentials(db, keyring))
    assert principal is not None  # the key itself is valid…
    with pytest.raises(ContractTerminated):  # …but the pipeline's contract check refuses it
        check_active(db, principal.contract, principal.credential_id)


def test_the_recheck_of_a_remembered_key_reads_key_and_contract(
        db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded) -> None:
    creds = Credentials(db, keyring)
    acme, globex = seeded.keys["acme"][4:18], seeded.keys["globex"][4:18]
    check_still_serving(db, "acme", acme)  # active key, active contract: nothing raised
    with pytest.raises(AuthenticationError):
        check_still_serving(db, "acme", "k_000000000000")  # no such key
    creds.revoke(acme)
    with pytest.raises(AuthenticationError):
        check_still_serving(db, "acme", acme)
    Termination(log, keyring, POLICIES["globex"]).run()
    with pytest.raises(ContractTerminated):  # the contract's end is reported before the key's revocation
        check_still_serving(db, "globex", globex)
