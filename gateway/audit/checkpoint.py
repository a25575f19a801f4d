"""Signed statements about the audit chain: checkpoints, retention anchors and export manifests.

Rules this module keeps:

1. The audit key is Ed25519. Its 32-byte seed is the key ring's ``("_audit", "signing")`` key, stored
   only wrapped by the master key; the private key never leaves this process.
2. A statement is a JSON object with a ``type`` and a ``key_id``. Its signature covers
   ``DOMAIN[type] || canonical(statement without "signature")``; each type has its own domain label,
   so a checkpoint can never be replayed as an anchor or a manifest, nor the reverse.
3. ``key_id`` is the first 16 hex digits of SHA-256 of the raw 32-byte public key: a name to pick the
   right key, never a reason to trust one. Trust comes from the public key the auditor was given.
4. Verification is all-or-nothing: a statement whose key is unknown, whose signature does not verify,
   or that is not well-formed raises the one opaque :class:`SignatureInvalid`.

The statement formats follow the transparency-log practice of signing a (size, head hash, time) triple
(RFC 6962 §3.5 "signed tree head"), with a hash chain in place of a Merkle tree.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from gateway.audit.record import canonical_json
from gateway.errors import AduanaError
from gateway.keys.keyring import KeyRing

AUDIT_CONTRACT: Final = "_audit"
AUDIT_PURPOSE: Final = "signing"
STATEMENT_VERSION: Final = 1

DOMAINS: Final[Mapping[str, bytes]] = {
    "checkpoint": b"aduana-audit-checkpoint-v1\n",
    "anchor": b"aduana-audit-anchor-v1\n",
    "manifest": b"aduana-audit-manifest-v1\n",
}

_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


class SignatureInvalid(Exception):
    """A signed statement did not verify (unknown key, bad signature or malformed). Deliberately vague."""


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_keys(pem: bytes) -> dict[str, Ed25519PublicKey]:
    """Every Ed25519 public key in a PEM file (one or several blocks), by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    for block in _PEM_BLOCK.findall(pem):
        try:
            key = serialization.load_pem_public_key(block)
        except ValueError as exc:
            raise ValueError("the public key file holds a PEM block that is not a public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise TypeError("the public key file holds a key that is not Ed25519")
        keys[key_id(key)] = key
    if not keys:
        raise ValueError("no PEM public key (-----BEGIN PUBLIC KEY-----) found")
    return keys


def signed_bytes(statement: Mapping[str, Any]) -> bytes:
    """The exact bytes a statement's signature covers (rule 2)."""
    kind = statement.get("type")
    if not isinstance(kind, str) or kind not in DOMAINS:
        raise SignatureInvalid("unknown statement type")
    body = {k: v for k, v in statement.items() if k != "signature"}
    try:
        return DOMAINS[kind] + canonical_json(body)
    except (TypeError, ValueError) as exc:
        raise SignatureInvalid("statement is not canonical JSON") from exc


def verify_statement(
    statement: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey], kind: str
) -> None:
    """Check ``statement`` is a ``kind`` statement signed by one of ``keys``; raise SignatureInvalid."""
    if not isinstance(statement, Mapping) or statement.get("type") != kind:
        raise SignatureInvalid("not a statement of the expected type")
    key = keys.get(str(statement.get("key_id")))
    signature = statement.get("signature")
    if key is None or not isinstance(signature, str) or not re.fullmatch(r"[0-9a-f]{128}", signature):
        raise SignatureInvalid("unknown key or malformed signature")
    try:
        key.verify(bytes.fromhex(signature), signed_bytes(statement))
    except InvalidSignature as exc:
        raise SignatureInvalid("signature does not verify") from exc


class AuditSigner:
    """The audit key of one store, loaded from the key ring."""

    def __init__(self, private_key: Ed25519PrivateKey, version: int = 1) -> None:
        self._private = private_key
        self.version = version
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def from_keyring(cls, keyring: KeyRing) -> AuditSigner:
        version, seed = keyring.current(AUDIT_CONTRACT, AUDIT_PURPOSE)
        return cls(Ed25519PrivateKey.from_private_bytes(seed), version)

    @property
    def public_pem(self) -> str:
        return public_pem(self.public_key)

    def sign(self, statement: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``statement`` with ``v``, ``key_id`` and ``signature`` added."""
        body = {**statement, "v": STATEMENT_VERSION, "key_id": self.key_id}
        body.pop("signature", None)
        signature = self._private.sign(signed_bytes(body))
        return {**body, "signature": signature.hex()}


def keyring_public_keys(keyring: KeyRing) -> dict[str, Ed25519PublicKey]:
    """Every audit public key this store has used (all versions of the audit seed), by key id."""
    current, _ = keyring.current(AUDIT_CONTRACT, AUDIT_PURPOSE)
    keys: dict[str, Ed25519PublicKey] = {}
    for version in range(1, current + 1):
        try:
            seed = keyring.version(AUDIT_CONTRACT, version, AUDIT_PURPOSE)
        except AduanaError:  # a destroyed old version: its checkpoints then fail to verify, loudly
            continue
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
        keys[key_id(public)] = public
    return keys


def pem_bundle(keys: Iterable[Ed25519PublicKey]) -> str:
    return "".join(public_pem(k) for k in keys)
