"""The cryptographic primitives Aduana uses, in one place (pyca/cryptography only).

Rules this module keeps:
1. Confidentiality is AES-256-GCM with a fresh random 96-bit nonce per encryption, never reused.
2. Every ciphertext is bound by its associated data to where it lives (contract, table, record id,
   key version): a ciphertext copied to another row or contract fails to open.
3. Associated data and MAC inputs are canonical: each field length-prefixed, behind a domain-separation
   label, so two different field lists can never encode to the same bytes.
4. A failed authentication raises one opaque :class:`IntegrityError`; nothing is returned unverified.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.errors import IntegrityError

KEY_BYTES = 32
NONCE_BYTES = 12


def canonical(label: str, *fields: str | bytes | int) -> bytes:
    """Encode a domain label and fields unambiguously (length-prefixed)."""
    out = bytearray()
    for item in (label, *fields):
        raw = item if isinstance(item, bytes) else str(item).encode("utf-8")
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt and authenticate; returns nonce || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    """Verify and decrypt what :func:`seal` produced; raise :class:`IntegrityError` on any mismatch."""
    if len(blob) < NONCE_BYTES + 16:
        raise IntegrityError("ciphertext too short")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data)
    except InvalidTag as exc:
        raise IntegrityError("ciphertext failed authentication") from exc


def mac(key: bytes, label: str, *fields: str | bytes | int) -> bytes:
    """HMAC-SHA256 over the canonical encoding of ``label`` and ``fields``."""
    return hmac.new(key, canonical(label, *fields), hashlib.sha256).digest()


def derive(key: bytes, label: str) -> bytes:
    """A sub-key for one purpose, so one secret never serves two (HMAC as a PRF)."""
    return mac(key, "aduana-derive-v1", label)


def key_fingerprint(key: bytes) -> str:
    """A short public identifier of a key (not usable to recover it)."""
    return hashlib.sha256(canonical("aduana-key-id-v1", key)).hexdigest()[:16]


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
