"""The destruction certificate: a golden vector, every tampering refused, and the checks against a store."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lifecycle_support import POLICIES, Seeded

from gateway.audit import AuditLog
from gateway.audit.checkpoint import SignatureInvalid, key_id, verify_statement
from gateway.keys.keyring import KeyRing
from gateway.lifecycle import certificate as certs
from gateway.lifecycle.termination import Termination
from gateway.store import Database

GOLDEN_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
GOLDEN_BODY: dict[str, Any] = {
    "contract": "acme", "vendor": "Acme", "time": "2025-06-01T12:00:00.000000Z",
    "audit_head": {"seq": 41, "hash": "ab" * 32},
    "destroyed": {"keys": [{"key_id": "acme/data/v1/0123456789ab", "purpose": "data", "version": 1}],
                  "records": {"vault": 3, "payloads": 0}},
}
# Ed25519 signatures are deterministic: this pins the canonical bytes and the domain label.
GOLDEN_KEY_ID = "56475aa75463474c"
GOLDEN_SIGNATURE = ("ef0a4d84cefa44c09201d8cdc451e1682471b44695502043972d975b991e046e"
                    "681db96bdd87f1b5c44e7521fd7fe683861d1d9dfd522f04567e98fa7b341a08")
KEYS = {GOLDEN_KEY_ID: GOLDEN_KEY.public_key()}


def golden() -> dict[str, Any]:
    return certs.sign(GOLDEN_BODY, GOLDEN_KEY)


def test_golden_vector() -> None:
    cert = golden()
    assert cert["key_id"] == GOLDEN_KEY_ID == key_id(GOLDEN_KEY.public_key())
    assert cert["signature"] == GOLDEN_SIGNATURE
    body = {k: v for k, v in cert.items() if k != "signature"}
    expected = b"aduana-destruction-certificate-v1\n" + json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert certs.signed_bytes(cert) == expected
    certs.verify(cert, KEYS)
    assert certs.digest(cert) == "sha256:" + hashlib.sha256(certs.dumps(cert).rstrip("\n").encode()).hexdigest()


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(cert: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = cert
        for name in parents:
            target = target[name]
        target[last] = value

    return change


TAMPERS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("contract", _set("contract", "globex")),
    ("vault count", _set("destroyed.records.vault", 4)),
    ("audit head", _set("audit_head.seq", 42)),
    ("a key removed", _set("destroyed.keys", [])),
    ("time", _set("time", "2025-06-02T12:00:00.000000Z")),
    ("type", _set("type", "checkpoint")),
    ("version", _set("v", 2)),
    ("unknown key id", _set("key_id", "0" * 16)),
    ("signature malformed", _set("signature", "zz")),
    ("signature of another body", _set("signature", "00" * 64)),
    ("a field added", _set("note", "extra")),
    ("a float", _set("destroyed.records.vault", 3.0)),
    ("signature missing", lambda c: c.pop("signature")),
    ("audit head missing", lambda c: c.pop("audit_head")),
]


@pytest.mark.parametrize(("what", "tamper"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_tampering_is_refused(what: str, tamper: Callable[[dict[str, Any]], None]) -> None:
    cert = copy.deepcopy(golden())
    tamper(cert)
    with pytest.raises(certs.CertificateInvalid):
        certs.verify(cert, KEYS)


def test_domains_are_separate() -> None:
    # a checkpoint signed by the same key never verifies as a certificate, and the reverse
    checkpoint = {"type": "checkpoint", "seq": 41, "hash": "ab" * 32, "time": "t", "v": 1, "key_id": GOLDEN_KEY_ID}
    checkpoint["signature"] = GOLDEN_KEY.sign(b"aduana-audit-checkpoint-v1\n" + json.dumps(
        checkpoint, sort_keys=True, separators=(",", ":")).encode()).hex()
    verify_statement(checkpoint, KEYS, "checkpoint")
    with pytest.raises(certs.CertificateInvalid):
        certs.verify({**checkpoint, "type": certs.TYPE}, KEYS)
    with pytest.raises(SignatureInvalid):
        verify_statement({**golden(), "type": "checkpoint"}, KEYS, "checkpoint")


@pytest.mark.parametrize("content", [b"", b"[]", b"not json", b'"a string"'])
def test_a_file_that_is_not_a_certificate(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cert.json"
    path.write_bytes(content)
    with pytest.raises(certs.CertificateInvalid):
        certs.load(path)


def _terminated(db: Database, keyring: KeyRing, log: AuditLog) -> dict[str, Any]:
    cert = Termination(log, keyring, POLICIES["acme"]).run().certificate
    assert cert is not None
    return cert


STORE_CHANGES: list[tuple[str, str, Callable[[Database, dict[str, Any]], None]]] = [
    ("a vault entry back", "vault entries",
     lambda db, c: _exec(db, "INSERT INTO vault (contract, token, entity_type, blind_index, key_version, ciphertext,"
                             " created_at) VALUES ('acme', 't', 'PERSON', ?, 1, ?, 'x')", (b"i", b"c"))),
    ("a listed key back", "still exists",
     lambda db, c: _exec(db, "INSERT INTO data_keys (key_id, contract, purpose, version, wrapped, master_key_id,"
                             " created_at) VALUES (?, 'acme', 'data', 1, ?, 'm', 'x')",
                         (c["destroyed"]["keys"][0]["key_id"], b"w"))),
    ("another certificate stored", "different certificate",
     lambda db, c: _exec(db, "UPDATE contract_state SET certificate = ? WHERE contract = 'acme'",
                         (json.dumps({**c, "signature": "00" * 64}),))),
    ("the contract active again", "as terminated",
     lambda db, c: _exec(db, "UPDATE contract_state SET status = 'active' WHERE contract = 'acme'")),
    ("the audit head rewritten", "differs from the audit head",
     lambda db, c: _exec(db, "UPDATE audit_records SET hash = ? WHERE seq = ?", ("00" * 32, c["audit_head"]["seq"]))),
]


def _exec(db: Database, sql: str, params: tuple[object, ...] = ()) -> None:
    with db.transaction(write=True) as tx:
        tx.execute(sql, params)


@pytest.mark.parametrize(("what", "problem", "change"), STORE_CHANGES, ids=[c[0] for c in STORE_CHANGES])
def test_the_store_check_finds_what_survived(db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded,
                                             what: str, problem: str,
                                             change: Callable[[Database, dict[str, Any]], None]) -> None:
    cert = _terminated(db, keyring, log)
    assert certs.store_problems(db, cert) == ([], [])
    change(db, cert)
    problems, _ = certs.store_problems(db, cert)
    assert any(problem in p for p in problems), problems


def test_a_purged_head_is_a_note_not_a_problem(db: Database, keyring: KeyRing, log: AuditLog, seeded: Seeded) -> None:
    cert = _terminated(db, keyring, log)
    seq = cert["audit_head"]["seq"]
    _exec(db, "INSERT INTO audit_anchors (seq, time, statement) VALUES (?, 't', '{}')", (seq,))
    _exec(db, "DELETE FROM audit_records WHERE seq <= ?", (seq,))
    problems, notes = certs.store_problems(db, cert)
    assert problems == [] and "purged" in notes[0]
