"""Vendor API keys: issued once, stored only as a keyed hash, revocable.

A key is ``adu_<key id>_<secret>``. The store holds the key id, the contract and
HMAC-SHA256(credential key, secret). The credential key lives in the key ring (contract ``_credentials``,
purpose ``hmac``), wrapped by the master key like every other key, so a copy of the store alone cannot be
used to check guesses and ``aduana keys rotate-master`` keeps every issued key valid. Its first version is
derived from the master key (``derive(master, "credentials")``), which is what stores made before the
key ring held it used: keys issued then stay valid. Verification compares hashes in constant time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.keys.crypto import constant_time_equal, derive, mac
from gateway.keys.keyring import KeyRing
from gateway.store.base import Database

PREFIX = "adu_"
CREDENTIALS_CONTRACT = "_credentials"
CREDENTIALS_PURPOSE = "hmac"


def _first_key(master: bytes) -> bytes:
    return derive(master, "credentials")


@dataclass(frozen=True)
class Credential:
    key_id: str
    contract: str
    created_at: str
    revoked_at: str | None


class Credentials:
    """Issue, verify and revoke vendor keys. ``keys`` is the process's key ring (or a master key, from
    which a ring over ``db`` is made)."""

    def __init__(self, db: Database, keys: KeyRing | bytes) -> None:
        self._db = db
        self._ring = keys if isinstance(keys, KeyRing) else KeyRing(db, keys)

    def ensure_key(self) -> str:
        """Make sure the credential key exists in the ring (before a master rotation); return its version."""
        return str(self._ring.current(CREDENTIALS_CONTRACT, CREDENTIALS_PURPOSE, initial=_first_key)[0])

    def _hash(self, secret: str) -> bytes:
        _, key = self._ring.current(CREDENTIALS_CONTRACT, CREDENTIALS_PURPOSE, initial=_first_key)
        return mac(key, "aduana-credential-v1", secret)

    def issue(self, contract: str) -> tuple[str, str]:
        """Create a key for ``contract``; return (key id, the full key). The key is never stored."""
        key_id = "k_" + secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        secret_hash = self._hash(secret)  # before the transaction: it may create the credential key
        with self._db.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO credentials (key_id, contract, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                (key_id, contract, secret_hash, datetime.now(UTC).isoformat()),
            )
        return key_id, f"{PREFIX}{key_id}_{secret}"

    def revoke(self, key_id: str) -> Credential | None:
        """Revoke a key at once; return it, or ``None`` if there is no such key."""
        now = datetime.now(UTC).isoformat()
        with self._db.transaction(write=True) as tx:
            tx.execute("UPDATE credentials SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                       (now, key_id))
            row = tx.fetchone("SELECT key_id, contract, created_at, revoked_at FROM credentials WHERE key_id = ?",
                              (key_id,))
        return Credential(*row) if row else None

    def revoke_contract(self, contract: str) -> int:
        with self._db.transaction(write=True) as tx:
            return tx.execute(
                "UPDATE credentials SET revoked_at = ? WHERE contract = ? AND revoked_at IS NULL",
                (datetime.now(UTC).isoformat(), contract),
            )

    def verify(self, presented: str) -> Credential | None:
        """The active credential ``presented`` belongs to, or ``None``."""
        if not presented.startswith(PREFIX):
            return None
        rest = presented[len(PREFIX):]
        # "k_" + 12 hex digits, "_", then the secret (which may itself hold underscores)
        key_id, sep, secret = rest[:14], rest[14:15], rest[15:]
        if sep != "_" or not key_id.startswith("k_") or not secret:
            return None
        with self._db.transaction() as tx:
            row = tx.fetchone(
                "SELECT key_id, contract, created_at, revoked_at, secret_hash FROM credentials WHERE key_id = ?",
                (key_id,),
            )
        if row is None or not constant_time_equal(bytes(row[4]), self._hash(secret)):
            return None
        if row[3] is not None:
            return None
        return Credential(row[0], row[1], row[2], row[3])

    def list(self, contract: str | None = None) -> list[Credential]:
        sql = "SELECT key_id, contract, created_at, revoked_at FROM credentials"
        params: tuple[str, ...] = ()
        if contract:
            sql += " WHERE contract = ?"
            params = (contract,)
        with self._db.transaction() as tx:
            return [Credential(*r) for r in tx.fetchall(sql + " ORDER BY created_at", params)]
