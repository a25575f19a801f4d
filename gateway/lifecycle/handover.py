"""The handover bundle: a terminated contract's token→value table, encrypted to the company's public key.

After a termination the gateway can no longer restore the vendor's old tokens; the company, holding the
private key, can still read its vendor's old records with ``aduana handover open``.

Rules this module keeps:
1. Only public-key encryption to the company's key, through pyca/cryptography. X25519 (default): an
   ephemeral key pair, ECDH, HKDF-SHA256 (salt random, info binding the format, the contract and both
   public keys) → a 256-bit content key. RSA (≥ 2048 bits): a random content key wrapped with RSA-OAEP
   (SHA-256, label binding the format and the contract). The private key never touches Aduana.
2. Content is AES-256-GCM in chunks of at most :data:`CHUNK_ENTRIES` entries, each with a fresh nonce.
   Each chunk's associated data binds the format version, the contract, the SHA-256 of the header line,
   the chunk's index and whether it is the last: a chunk moved, dropped, reordered or taken from another
   bundle fails, and so does a bundle cut short (no authenticated last chunk).
3. Memory is bounded by one chunk both ways: entries are written as they are read, and read back chunk
   by chunk.
4. Anything wrong with a bundle or key at open time raises the one opaque :class:`HandoverError`.

The construction follows the shape of HPKE (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256) with
AES-256-GCM) and of STREAM-style chunked AEAD with a last-chunk flag (Hoang, Reyhanitabar, Rogaway,
Vizár 2015); both are built from the library's primitives, never a hand-made cipher.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.errors import AduanaError
from gateway.keys.crypto import canonical

FORMAT: Final = "aduana-handover-v1"
X25519_SCHEME: Final = "x25519-hkdf-sha256-aes256gcm"
RSA_SCHEME: Final = "rsa-oaep-sha256-aes256gcm"
CHUNK_ENTRIES: Final = 256
MIN_RSA_BITS: Final = 2048
_NONCE = 12

Recipient = X25519PublicKey | rsa.RSAPublicKey


class HandoverError(AduanaError):
    """A bundle or key could not be used. Deliberately vague: wrong key, damaged, truncated or forged."""

    reason = "handover_invalid"
    status = 400
    public_message = "The handover bundle cannot be opened with this key (wrong key, or damaged)."


@dataclass(frozen=True)
class Entry:
    """One vault entry in the clear: what the company gets back. ``value`` is None when unreadable."""

    token: str
    entity_type: str
    value: str | None
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"token": self.token, "entity_type": self.entity_type, "value": self.value,
                               "created_at": self.created_at}
        if self.value is None:
            out["error"] = "integrity"  # the stored ciphertext failed authentication
        return out


@dataclass(frozen=True)
class BundleInfo:
    """What was written: for the audit trail and the certificate (never a value)."""

    entries: int
    unreadable: int
    sha256: str
    recipient: str
    scheme: str


@dataclass(frozen=True)
class HandoverTarget:
    """Where the handover bundle goes and for whom (the company's public key, PEM)."""

    public_pem: str
    out: str

    def __post_init__(self) -> None:
        load_recipient(self.public_pem.encode("ascii"))  # ValueError now, not after revocation

    @property
    def recipient(self) -> str:
        return fingerprint(load_recipient(self.public_pem.encode("ascii")))

    def as_dict(self) -> dict[str, str]:
        return {"public_pem": self.public_pem, "out": self.out, "recipient": self.recipient}


# --- keys ------------------------------------------------------------------------------------------


def fingerprint(public_key: Recipient) -> str:
    """A short public name of the recipient key: SHA-256 of its SubjectPublicKeyInfo, 16 hex digits."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def load_recipient(pem: bytes) -> Recipient:
    """The company's public key (X25519 or RSA ≥ 2048 bits) from PEM; ``ValueError`` otherwise."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise ValueError("not a PEM public key (-----BEGIN PUBLIC KEY-----)") from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"an RSA key must have at least {MIN_RSA_BITS} bits, this one has {key.key_size}")
        return key
    if isinstance(key, X25519PublicKey):
        return key
    raise ValueError("the handover key must be X25519 (aduana handover keygen) or RSA")


def generate_x25519() -> tuple[bytes, bytes]:
    """A new X25519 key pair as (private PKCS#8 PEM, public PEM)."""
    private = X25519PrivateKey.generate()
    return (
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def generate_rsa(bits: int = 3072) -> tuple[bytes, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return (
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _hkdf(shared: bytes, salt: bytes, contract: str, ephemeral: bytes, recipient: bytes) -> bytes:
    info = canonical("aduana-handover-key-v1", FORMAT, contract, ephemeral, recipient)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared)


def _oaep(contract: str) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(),
                        label=canonical("aduana-handover-wrap-v1", FORMAT, contract))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _chunk_ad(contract: str, header_digest: bytes, index: int, final: bool) -> bytes:
    return canonical("aduana-handover-chunk-v1", FORMAT, contract, header_digest, index, int(final))


# --- writing -----------------------------------------------------------------------------------------


def _chunks(entries: Iterable[Entry]) -> Iterator[tuple[list[Entry], bool]]:
    """Entries in chunks, each with whether it is the last (one chunk of look-ahead; maybe one empty)."""
    it = iter(entries)
    current = list(islice(it, CHUNK_ENTRIES))
    while True:
        following = list(islice(it, CHUNK_ENTRIES))
        if not following:
            yield current, True
            return
        yield current, False
        current = following


def write_bundle(out: IO[bytes], recipient: Recipient, contract: str, vendor: str | None, created_at: str,
                 entries: Iterable[Entry]) -> BundleInfo:
    """Write a bundle of ``entries`` for ``recipient`` to ``out``; return what was written."""
    salt = os.urandom(32)
    header: dict[str, Any] = {"format": FORMAT, "contract": contract, "vendor": vendor, "created_at": created_at,
                              "recipient": fingerprint(recipient), "salt": _b64(salt),
                              "chunk_entries": CHUNK_ENTRIES}
    if isinstance(recipient, X25519PublicKey):
        ephemeral = X25519PrivateKey.generate()
        eph_raw = _raw(ephemeral.public_key())
        key = _hkdf(ephemeral.exchange(recipient), salt, contract, eph_raw, _raw(recipient))
        header.update(scheme=X25519_SCHEME, ephemeral_public_key=_b64(eph_raw))
    else:
        key = os.urandom(32)
        header.update(scheme=RSA_SCHEME, wrapped_key=_b64(recipient.encrypt(key, _oaep(contract))))
    header_line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"
    header_digest = hashlib.sha256(header_line).digest()
    digest = hashlib.sha256(header_line)
    out.write(header_line)
    aead = AESGCM(key)
    count = unreadable = 0
    for index, (chunk, final) in enumerate(_chunks(entries)):
        plaintext = b"".join(
            json.dumps(e.as_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n" for e in chunk)
        count += len(chunk)
        unreadable += sum(1 for e in chunk if e.value is None)
        nonce = os.urandom(_NONCE)
        sealed = nonce + aead.encrypt(nonce, plaintext, _chunk_ad(contract, header_digest, index, final))
        line = json.dumps({"i": index, "final": final, "ct": _b64(sealed)}, sort_keys=True,
                          separators=(",", ":")).encode("ascii") + b"\n"
        digest.update(line)
        out.write(line)
    return BundleInfo(count, unreadable, digest.hexdigest(), header["recipient"], header["scheme"])


def write_bundle_file(path: Path, recipient: Recipient, contract: str, vendor: str | None, created_at: str,
                      entries: Iterable[Entry]) -> BundleInfo:
    """Write the bundle to ``path`` atomically: a temporary file, synced, then renamed over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            info = write_bundle(fh, recipient, contract, vendor, created_at, entries)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return info


# --- opening -----------------------------------------------------------------------------------------


def load_private_key(pem: bytes, password: bytes | None = None) -> X25519PrivateKey | rsa.RSAPrivateKey:
    """The company's private key; ``TypeError`` when it is encrypted and no password was given."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except ValueError as exc:
        raise HandoverError("the private key cannot be read (not PEM, or a wrong password)") from exc
    if not isinstance(key, X25519PrivateKey | rsa.RSAPrivateKey):
        raise HandoverError("the private key is neither X25519 nor RSA")
    return key


def _header(line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise HandoverError("not a handover bundle") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT or not isinstance(header.get("contract"), str):
        raise HandoverError("not a handover bundle of a known version")
    return header


def _content_key(header: dict[str, Any], private: X25519PrivateKey | rsa.RSAPrivateKey) -> bytes:
    contract = str(header["contract"])
    try:
        salt = base64.b64decode(header["salt"], validate=True)
        if header.get("scheme") == X25519_SCHEME and isinstance(private, X25519PrivateKey):
            eph_raw = base64.b64decode(header["ephemeral_public_key"], validate=True)
            shared = private.exchange(X25519PublicKey.from_public_bytes(eph_raw))
            return _hkdf(shared, salt, contract, eph_raw, _raw(private.public_key()))
        if header.get("scheme") == RSA_SCHEME and isinstance(private, rsa.RSAPrivateKey):
            return private.decrypt(base64.b64decode(header["wrapped_key"], validate=True), _oaep(contract))
    except (KeyError, TypeError, ValueError) as exc:
        raise HandoverError("the bundle's key cannot be recovered with this private key") from exc
    raise HandoverError("the bundle was made for another kind of key")


def open_bundle(stream: IO[bytes], private: X25519PrivateKey | rsa.RSAPrivateKey) -> Iterator[dict[str, Any]]:
    """Yield the entries of a bundle, chunk by chunk, each chunk verified before it is parsed.

    Raises :class:`HandoverError` on the first problem, including a bundle that ends before its last
    chunk; entries of the chunks before it have then already been yielded (the caller discards them).
    """
    first = stream.readline()
    header = _header(first)
    contract = str(header["contract"])
    header_digest = hashlib.sha256(first).digest()
    aead = AESGCM(_content_key(header, private))
    expected, finished = 0, False
    for line in stream:
        if finished:
            raise HandoverError("data after the last chunk")
        try:
            chunk = json.loads(line)
            index, final = chunk["i"], chunk["final"]
            sealed = base64.b64decode(chunk["ct"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise HandoverError("a chunk is malformed") from exc
        if index != expected or not isinstance(final, bool) or len(sealed) < _NONCE + 16:
            raise HandoverError("chunks are missing or out of order")
        try:
            plaintext = aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], _chunk_ad(contract, header_digest, index, final))
        except InvalidTag as exc:
            raise HandoverError("a chunk failed authentication") from exc
        for entry_line in plaintext.splitlines():
            yield json.loads(entry_line)
        expected, finished = expected + 1, final
    if not finished:
        raise HandoverError("the bundle is truncated (its last chunk is missing)")


def bundle_header(stream: IO[bytes]) -> dict[str, Any]:
    """The (unauthenticated) header of a bundle: contract, vendor, time, recipient. For display only."""
    return _header(stream.readline())
