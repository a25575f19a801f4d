"""The destruction certificate: a signed statement of what a contract's termination destroyed.

Rules this module keeps:
1. A certificate is a JSON object. Its signature is Ed25519 by the store's audit key over
   ``DOMAIN || canonical(certificate without "signature")``, canonical as audit records are (sorted keys,
   no whitespace, UTF-8, no floats). The domain label is used for nothing else, so no other signed
   statement of Aduana (checkpoint, anchor, manifest) can pass for a certificate, nor the reverse.
2. ``key_id`` names the signing key (16 hex digits of SHA-256 of the raw public key, as for audit
   statements); trust comes only from the public key the verifier holds.
3. Checking a certificate offline is all-or-nothing: any problem raises the one opaque
   :class:`CertificateInvalid`. Checking it against a store lists every way the store disagrees.
4. A certificate states only what was true when it was signed: its counts and key list were computed
   inside the transaction that destroyed the keys (see ``termination.py``), and it names the audit head
   read under the chain's lock in the transaction that issues it.

Follows the statement shape of the audit checkpoints (``gateway/audit/checkpoint.py``), which follow the
signed-tree-head practice of RFC 6962 §3.5.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.checkpoint import AUDIT_CONTRACT, AUDIT_PURPOSE, key_id
from gateway.audit.record import canonical_json
from gateway.keys.keyring import KeyRing
from gateway.store.base import Database

TYPE: Final = "destruction-certificate"
VERSION: Final = 1
DOMAIN: Final = b"aduana-destruction-certificate-v1\n"
_REQUIRED: Final = ("type", "v", "contract", "time", "audit_head", "destroyed", "key_id", "signature")


class CertificateInvalid(Exception):
    """The certificate did not verify (unknown key, bad signature, malformed). Deliberately vague."""


def signing_key(keyring: KeyRing) -> Ed25519PrivateKey:
    """The store's current audit signing key (the key ring's ``_audit``/``signing`` seed)."""
    _, seed = keyring.current(AUDIT_CONTRACT, AUDIT_PURPOSE)
    return Ed25519PrivateKey.from_private_bytes(seed)


def signed_bytes(certificate: Mapping[str, Any]) -> bytes:
    """The exact bytes the signature covers (rule 1)."""
    body = {k: v for k, v in certificate.items() if k != "signature"}
    try:
        return DOMAIN + canonical_json(body)
    except (TypeError, ValueError) as exc:
        raise CertificateInvalid("the certificate is not canonical JSON") from exc


def sign(body: Mapping[str, Any], private: Ed25519PrivateKey) -> dict[str, Any]:
    """``body`` with ``type``, ``v``, ``key_id`` and ``signature`` added."""
    statement = {**body, "type": TYPE, "v": VERSION, "key_id": key_id(private.public_key())}
    statement.pop("signature", None)
    return {**statement, "signature": private.sign(signed_bytes(statement)).hex()}


def verify(certificate: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Check ``certificate`` is well-formed and signed by one of ``keys``; raise :class:`CertificateInvalid`."""
    if not isinstance(certificate, Mapping) or certificate.get("type") != TYPE or certificate.get("v") != VERSION:
        raise CertificateInvalid("not a destruction certificate of a known version")
    if any(name not in certificate for name in _REQUIRED):
        raise CertificateInvalid("the certificate lacks required fields")
    key = keys.get(str(certificate.get("key_id")))
    signature = certificate.get("signature")
    if key is None or not isinstance(signature, str) or not re.fullmatch(r"[0-9a-f]{128}", signature):
        raise CertificateInvalid("unknown key or malformed signature")
    try:
        key.verify(bytes.fromhex(signature), signed_bytes(certificate))
    except InvalidSignature as exc:
        raise CertificateInvalid("the signature does not verify") from exc


def digest(certificate: Mapping[str, Any]) -> str:
    """``sha256:…`` of the whole certificate's canonical bytes (the audit trail names it by this)."""
    return "sha256:" + hashlib.sha256(canonical_json(dict(certificate))).hexdigest()


def dumps(certificate: Mapping[str, Any]) -> str:
    """The certificate as its file holds it: canonical JSON and a newline."""
    return canonical_json(dict(certificate)).decode("utf-8") + "\n"


def load(path: Path) -> dict[str, Any]:
    """Read a certificate file (untrusted: anything but a JSON object raises :class:`CertificateInvalid`)."""
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CertificateInvalid(f"{path} is not a readable JSON file") from exc
    if not isinstance(value, dict):
        raise CertificateInvalid(f"{path} does not hold a JSON object")
    return value


def key_ids(certificate: Mapping[str, Any]) -> list[str]:
    """The ids of the keys a (verified) certificate says were destroyed."""
    keys = certificate.get("destroyed", {}).get("keys", [])
    return [str(k["key_id"]) for k in keys if isinstance(k, Mapping) and "key_id" in k]


def store_problems(db: Database, certificate: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """How the store disagrees with a (verified) certificate: (problems, notes).

    Checks that none of the listed keys exists, that the contract has no key and no vault entry, that
    the store recorded this very certificate, and that the audit head it names is in the chain.
    """
    problems: list[str] = []
    notes: list[str] = []
    contract = str(certificate["contract"])
    listed = key_ids(certificate)
    with db.transaction() as tx:
        for kid in listed:
            if tx.fetchone("SELECT 1 FROM data_keys WHERE key_id = ?", (kid,)):
                problems.append(f"key {kid} still exists")
        row = tx.fetchone("SELECT COUNT(*) FROM data_keys WHERE contract = ?", (contract,))
        if row and int(row[0]):
            problems.append(f"contract {contract} has {row[0]} keys in the store")
        row = tx.fetchone("SELECT COUNT(*) FROM vault WHERE contract = ?", (contract,))
        if row and int(row[0]):
            problems.append(f"contract {contract} has {row[0]} vault entries in the store")
        state = tx.fetchone("SELECT status, certificate FROM contract_state WHERE contract = ?", (contract,))
        head = certificate.get("audit_head", {})
        seq = head.get("seq") if isinstance(head, Mapping) else None
        record = tx.fetchone("SELECT hash FROM audit_records WHERE seq = ?", (seq,)) if isinstance(seq, int) else None
        anchor = tx.fetchone("SELECT MAX(seq) FROM audit_anchors")
    if state is None or state[0] != "terminated" or not state[1]:
        problems.append(f"the store does not record contract {contract} as terminated")
    elif json.loads(state[1]).get("signature") != certificate.get("signature"):
        problems.append("the store holds a different certificate for this contract")
    if record is not None:
        if record[0] != head.get("hash"):
            problems.append(f"audit record {seq} differs from the audit head the certificate names")
    elif isinstance(seq, int) and seq > 0:
        purged = anchor is not None and anchor[0] is not None and int(anchor[0]) >= seq
        if purged:
            notes.append(f"audit record {seq} was purged by retention; the head cannot be compared")
        else:
            problems.append(f"audit record {seq}, the head the certificate names, is not in the chain")
    return problems, notes
