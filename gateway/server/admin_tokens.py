"""Admin API tokens: role-scoped (auditor or operator), shown once, stored as a keyed hash, revocable.

A token is ``ada_<token id>_<secret>``. The store keeps the id, the role and HMAC-SHA256 of the secret
under a key from the key ring (wrapped by the master key like every other key). Verification looks the
row up by id and compares hashes in constant time; any mismatch is the same ``None``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from gateway.keys.crypto import constant_time_equal, mac
from gateway.keys.keyring import KeyRing
from gateway.store.base import Database

Role = Literal["auditor", "operator"]
ROLES: tuple[Role, ...] = ("auditor", "operator")
PREFIX = "ada_"
_KEY_CONTRACT, _KEY_PURPOSE = "_admin", "hmac"
_ID_LEN = 14  # "t_" + 12 hex digits


@dataclass(frozen=True)
class AdminToken:
    token_id: str
    role: Role
    created_at: str
    revoked_at: str | None


class AdminTokens:
    def __init__(self, db: Database, keyring: KeyRing) -> None:
        self._db = db
        self._ring = keyring

    def _hash(self, secret: str) -> bytes:
        _, key = self._ring.current(_KEY_CONTRACT, _KEY_PURPOSE)
        return mac(key, "aduana-admin-token-v1", secret)

    def issue(self, role: Role) -> tuple[str, str]:
        """Create a token for ``role``; return (token id, the full token). The token is never stored."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token_id = "t_" + secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        digest = self._hash(secret)
        with self._db.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO admin_tokens (token_id, role, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                (token_id, role, digest, datetime.now(UTC).isoformat()),
            )
        return token_id, f"{PREFIX}{token_id}_{secret}"

    def revoke(self, token_id: str) -> AdminToken | None:
        with self._db.transaction(write=True) as tx:
            tx.execute("UPDATE admin_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                       (datetime.now(UTC).isoformat(), token_id))
            row = tx.fetchone("SELECT token_id, role, created_at, revoked_at FROM admin_tokens WHERE token_id = ?",
                              (token_id,))
        return AdminToken(*row) if row else None

    def verify(self, presented: str) -> AdminToken | None:
        """The active token ``presented`` is, or ``None`` (unknown, revoked, malformed or wrong secret)."""
        if not presented.startswith(PREFIX):
            return None
        rest = presented[len(PREFIX):]
        token_id, sep, secret = rest[:_ID_LEN], rest[_ID_LEN:_ID_LEN + 1], rest[_ID_LEN + 1:]
        if sep != "_" or not token_id.startswith("t_") or not secret:
            return None
        digest = self._hash(secret)
        with self._db.transaction() as tx:
            row = tx.fetchone(
                "SELECT token_id, role, created_at, revoked_at, secret_hash FROM admin_tokens WHERE token_id = ?",
                (token_id,),
            )
        if row is None or not constant_time_equal(bytes(row[4]), digest) or row[3] is not None:
            return None
        return AdminToken(row[0], row[1], row[2], row[3])

    def list(self) -> list[AdminToken]:
        with self._db.transaction() as tx:
            rows = tx.fetchall("SELECT token_id, role, created_at, revoked_at FROM admin_tokens ORDER BY created_at")
        return [AdminToken(*r) for r in rows]
