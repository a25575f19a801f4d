"""The termination state machine in process, on both stores: what it destroys, keeps, certifies and refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from lifecycle_support import POLICIES, Clock, Seeded, audit_actions, audit_bodies, count, restores_all, rows

from gateway.audit import AuditLog
from gateway.audit.verify import verify_store
from gateway.credentials import Credentials
from gateway.keys.keyring import KeyRing
from gateway.lifecycle import certificate as certs
from gateway.lifecycle.handover import HandoverTarget, generate_x25519, load_private_key, open_bundle
from gateway.lifecycle.hold import place_hold, release_hold
from gateway.lifecycle.state import TERMINATED, ContractTerminated, LifecycleError, check_active, state_of
from gateway.lifecycle.termination import Termination
from gateway.store import Database
from gateway.vault import Vault

STEP_ACTIONS = ["contract.revoke", "contract.shred-keys", "contract.delete-records", "contract.compact",
                "contract.terminate"]


def terminate(log: AuditLog, keyring: KeyRing, contract: str = "acme", **kwargs: object) -> Termination:
    return Termination(log, keyring, POLICIES[contract], actor="cli:test", **kwargs)  # type: ignore[arg-type]


def test_a_full_run_destroys_the_contract_and_certifies_it(db: Database, keyring: KeyRing, log: AuditLog,
                                                           seeded: Seeded) -> None:
    key_ids = [r[0] for r in rows(db, "SELECT key_id FROM data_keys WHERE contract = 'acme' ORDER BY key_id")]
    outcome = terminate(log, keyring, batch=5).run()
    assert outcome.status == TERMINATED
    assert outcome.ran == ["revoke", "shred_keys", "delete_rows", "compact", "certificate"]
    cert = outcome.certificate
    assert cert is not None
    certs.verify(cert, log.public_keys())
    assert certs.store_problems(db, cert) == ([], [])
    assert sorted(certs.key_ids(cert)) == key_ids
    assert {(k["purpose"], k["version"]) for k in cert["destroyed"]["keys"]} == {("data", 1), ("token", 1)}
    assert cert["destroyed"]["records"] == {"vault": 13, "payloads": 0}
    assert cert["destroyed"]["vault_by_entity_type"] == {"EMAIL_ADDRESS": 1, "PERSON": 12}
    assert cert["revoked"]["credentials"] == 1 and cert["revoked"]["revoked_by_termination"] == 1
    assert cert["policy"]["packs"][0]["name"] == "gdpr"
    assert cert["policy"]["retention"]["vault"] == {"period": "P90D", "pack": "gdpr@1.0.0"}
    # nothing of acme remains; globex is untouched
    assert count(db, "vault", "acme") == 0 and count(db, "data_keys", "acme") == 0
    assert restores_all(db, keyring, "globex", seeded.tokens["globex"])
    assert Credentials(db, keyring).verify(seeded.keys["globex"]) is not None
    # the chain verifies, records each step once, and the certificate names the head before its own record
    report = verify_store(db, log.public_keys())
    assert report.ok, report.problems
    assert audit_actions(db) == STEP_ACTIONS
    (final,) = audit_bodies(db, "contract.terminate")
    assert final["seq"] == cert["audit_head"]["seq"] + 1 and final["details"]["certificate"] == certs.digest(cert)


def test_after_termination_tokens_stay_as_they_are_and_requests_are_refused(
        db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded) -> None:
    terminate(log, keyring).run()
    vault = Vault(db, keyring)
    assert all(vault.restore("acme", t) is None for t in seeded.tokens["acme"].values())
    with pytest.raises(ContractTerminated):
        check_active(db, "acme")
    check_active(db, "globex")
    creds = Credentials(db, keyring)
    assert creds.verify(seeded.keys["acme"]) is None  # revoked


def test_a_rerun_issues_nothing_new(db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded) -> None:
    first = terminate(log, keyring).run()
    again = terminate(log, keyring).run()
    assert again.already and again.ran == [] and again.certificate == first.certificate
    assert audit_actions(db) == STEP_ACTIONS


def test_a_dry_run_changes_nothing(db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded) -> None:
    before = rows(db, "SELECT COUNT(*) FROM audit_records")
    preview = terminate(log, keyring).preview()
    assert preview.vault == 13 and len(preview.keys) == 2 and len(preview.credentials) == 1
    assert preview.next_steps == ["revoke", "shred_keys", "delete_rows", "compact", "certificate"]
    assert rows(db, "SELECT COUNT(*) FROM audit_records") == before
    assert state_of(db, "acme").status == "active" and count(db, "vault", "acme") == 13


def test_a_legal_hold_stops_before_destruction_and_release_resumes(
        db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded) -> None:
    place_hold(log, "acme", "Acme Vendor", "case 2025-17", "cli:test")
    preview = terminate(log, keyring).preview()
    assert preview.hold and preview.next_steps == ["revoke"]
    held = terminate(log, keyring).run()
    assert held.status == "held" and held.ran == ["revoke"]
    # revoked (refused from now on) but nothing destroyed
    with pytest.raises(ContractTerminated):
        check_active(db, "acme")
    assert count(db, "vault", "acme") == 13 and count(db, "data_keys", "acme") == 2
    assert restores_all(db, keyring, "acme", seeded.tokens["acme"])
    (blocked,) = [b for b in audit_bodies(db, "contract.terminate") if b["decision"] == "blocked"]
    assert blocked["reason"] == "legal_hold"
    release_hold(log, "acme", "Acme Vendor", "cli:test")
    done = terminate(log, keyring).run()
    assert done.status == TERMINATED and done.ran == ["shred_keys", "delete_rows", "compact", "certificate"]
    assert count(db, "vault", "acme") == 0


def test_hold_is_refused_once_keys_are_destroyed(db: Database, keyring: KeyRing, log: AuditLog,
                                                 seeded: Seeded) -> None:
    terminate(log, keyring).run()
    with pytest.raises(LifecycleError, match="already destroyed"):
        place_hold(log, "acme", None, "too late", None)


def test_handover_bundle_holds_the_table_and_resumes_with_the_recorded_target(
        db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded, tmp_path: Path) -> None:
    private, public = generate_x25519()
    target = HandoverTarget(public.decode(), str(tmp_path / "acme.bundle"))
    place_hold(log, "acme", None, "hold so the run stops after the handover", None)
    assert terminate(log, keyring).run(target).ran == ["revoke", "handover"]
    _, other_public = generate_x25519()
    with pytest.raises(LifecycleError, match="same options"):
        terminate(log, keyring).run(HandoverTarget(other_public.decode(), target.out))
    release_hold(log, "acme", None, None)
    outcome = terminate(log, keyring).run()  # no handover given: the recorded one is already done
    assert outcome.ran == ["shred_keys", "delete_rows", "compact", "certificate"]
    assert outcome.certificate is not None and outcome.certificate["handover"]["entries"] == 13
    with open(target.out, "rb") as fh:
        table = {e["value"]: e["token"] for e in open_bundle(fh, load_private_key(private))}
    assert table == seeded.tokens["acme"]


def test_a_handover_after_the_keys_are_gone_is_refused(db: Database, keyring: KeyRing, log: AuditLog,
                                                       seeded: Seeded, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    job = terminate(log, keyring)

    def crash() -> bool:
        raise RuntimeError("killed after the keys were destroyed")

    monkeypatch.setattr(job, "_delete_rows", crash)
    with pytest.raises(RuntimeError):
        job.run()
    _, public = generate_x25519()
    with pytest.raises(LifecycleError, match="no longer possible"):
        terminate(log, keyring).run(HandoverTarget(public.decode(), str(tmp_path / "late.bundle")))
    assert terminate(log, keyring).run().status == TERMINATED


def test_rows_that_appear_after_the_destruction_are_destroyed_and_certified(
        db: Database, keyring: KeyRing, master: bytes, log: AuditLog, seeded: Seeded,
        monkeypatch: pytest.MonkeyPatch) -> None:
    job = terminate(log, keyring)
    compact = job._compact

    def straggler_then_compact() -> bool:
        # a request that was in flight at revocation writes one more value with a key it re-creates
        Vault(db, KeyRing(db, master)).tokenize("acme", "PERSON", "Late Person")
        return compact()

    monkeypatch.setattr(job, "_compact", straggler_then_compact)
    outcome = job.run()
    assert outcome.certificate is not None
    late = outcome.certificate["destroyed"]["late"]
    assert late["vault"] == 1 and len(late["keys"]) == 2
    assert certs.store_problems(db, outcome.certificate) == ([], [])
    assert count(db, "vault", "acme") == 0 and count(db, "data_keys", "acme") == 0


def test_plugins_hear_of_the_termination_once(db: Database, keyring: KeyRing, log: AuditLog,
                                              seeded: Seeded) -> None:
    from gateway.pluginmanager import load_plugins
    from plugin_fixtures import lifecycle as listener

    listener.CALLS.clear()
    listener.BOOM = True
    try:
        plugins = load_plugins(["plugin_fixtures.lifecycle"], entry_points=False)
        outcome = Termination(log, keyring, POLICIES["acme"], plugins).run()
        assert outcome.notify_failures == ["plugin_fixtures.lifecycle: RuntimeError"]
        Termination(log, keyring, POLICIES["acme"], plugins).run()
    finally:
        listener.BOOM = False
    assert [c for c, _ in listener.CALLS] == ["contract_terminated"]
    (failed,) = audit_bodies(db, "contract.notify-failed")
    assert failed["details"] == {"plugins": ["plugin_fixtures.lifecycle"], "errors": ["RuntimeError"]}
    assert state_of(db, "acme").notified_at is not None


@pytest.mark.parametrize("batch", [1, 4, 13, 500])
def test_batch_sizes_delete_everything(db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded,
                                       batch: int) -> None:
    outcome = terminate(log, keyring, batch=batch).run()
    assert outcome.certificate is not None and outcome.certificate["destroyed"]["records"]["vault"] == 13
    assert count(db, "vault", "acme") == 0 and count(db, "vault", "globex") == 13


def test_clock_is_used_for_every_time(db: Database, keyring: KeyRing, clock: Clock, log: AuditLog,
                                      seeded: Seeded) -> None:
    outcome = terminate(log, keyring).run()
    assert outcome.certificate is not None
    assert outcome.certificate["time"] == state_of(db, "acme").terminated_at
