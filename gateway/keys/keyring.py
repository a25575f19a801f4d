"""Per-contract keys, stored only wrapped by the master key.

Each contract has a ``data`` key (AES-256-GCM for vault values; versioned, rotatable) and a ``token`` key
(HMAC for tokens and blind indexes; stable, because tokens must stay the same for the same value).
A wrapped key's associated data binds it to its contract, purpose, version and key id.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from gateway.errors import IntegrityError, KeyError_
from gateway.keys.crypto import canonical, key_fingerprint, new_key, open_sealed, seal
from gateway.store.base import Database

DATA = "data"
TOKEN = "token"


def _wrap_ad(contract: str, purpose: str, version: int, key_id: str) -> bytes:
    return canonical("aduana-wrap-v1", contract, purpose, version, key_id)


class KeyRing:
    """Unwraps and caches the contracts' keys; creates a contract's keys on first use."""

    def __init__(self, db: Database, master_key: bytes) -> None:
        self._db = db
        self._master = master_key
        self.master_key_id = key_fingerprint(master_key)
        self._cache: dict[tuple[str, str, int], bytes] = {}
        self._current: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def check(self) -> int:
        """Verify the master key is the store's and every stored key unwraps; return how many.

        Called at start-up so a wrong or missing key stops the gateway before it touches anything.
        """
        with self._db.transaction() as tx:
            row = tx.fetchone("SELECT value FROM store_meta WHERE name = 'master_key_id'")
            keys = tx.fetchall(
                "SELECT key_id, contract, purpose, version, wrapped, master_key_id FROM data_keys"
                " WHERE status = 'active'"
            )
        if row is not None and row[0] != self.master_key_id:
            raise KeyError_(
                f"the master key (id {self.master_key_id}) is not the one this store's keys are wrapped "
                f"with (id {row[0]}): check the keys.master_key setting"
            )
        for key_id, contract, purpose, version, wrapped, _ in keys:
            self._unwrap(key_id, contract, purpose, int(version), wrapped)
        return len(keys)

    def _unwrap(self, key_id: str, contract: str, purpose: str, version: int, wrapped: bytes) -> bytes:
        cache_key = (contract, purpose, version)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        try:
            key = open_sealed(self._master, wrapped, _wrap_ad(contract, purpose, version, key_id))
        except IntegrityError as exc:
            raise KeyError_(
                f"key {key_id} of contract {contract} cannot be unwrapped with this master key"
            ) from exc
        self._cache[cache_key] = key
        return key

    def _load(self, contract: str, purpose: str, version: int | None) -> tuple[int, bytes]:
        sql = (
            "SELECT key_id, version, wrapped FROM data_keys WHERE contract = ? AND purpose = ?"
            " AND status = 'active'"
        )
        params: tuple[object, ...] = (contract, purpose)
        if version is None:
            sql += " ORDER BY version DESC LIMIT 1"
        else:
            sql += " AND version = ?"
            params += (version,)
        with self._db.transaction() as tx:
            row = tx.fetchone(sql, params)
        if row is None:
            if version is not None:
                raise KeyError_(f"contract {contract} has no {purpose} key version {version}")
            return self._create(contract, purpose, 1)
        key_id, found_version, wrapped = row
        return int(found_version), self._unwrap(key_id, contract, purpose, int(found_version), wrapped)

    def _create(self, contract: str, purpose: str, version: int) -> tuple[int, bytes]:
        key_id = f"{contract}/{purpose}/v{version}/{uuid.uuid4().hex[:12]}"
        key = new_key()
        wrapped = seal(self._master, key, _wrap_ad(contract, purpose, version, key_id))
        now = datetime.now(UTC).isoformat()
        with self._db.transaction(write=True) as tx:
            meta = tx.fetchone("SELECT value FROM store_meta WHERE name = 'master_key_id'")
            if meta is None:
                tx.execute(
                    "INSERT INTO store_meta (name, value) VALUES ('master_key_id', ?) ON CONFLICT DO NOTHING",
                    (self.master_key_id,),
                )
            elif meta[0] != self.master_key_id:
                raise KeyError_("the master key does not match this store's keys")
            # Another process may create the same key at the same time: exactly one row wins.
            tx.execute(
                "INSERT INTO data_keys (key_id, contract, purpose, version, wrapped, master_key_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (contract, purpose, version) DO NOTHING",
                (key_id, contract, purpose, version, wrapped, self.master_key_id, now),
            )
        return self._load(contract, purpose, version)

    def current(self, contract: str, purpose: str = DATA) -> tuple[int, bytes]:
        """The key new writes use: (version, key)."""
        with self._lock:
            version = self._current.get((contract, purpose))
            if version is not None:
                return version, self._cache[(contract, purpose, version)]
        version, key = self._load(contract, purpose, None)
        with self._lock:
            self._current[(contract, purpose)] = version
        return version, key

    def version(self, contract: str, version: int, purpose: str = DATA) -> bytes:
        """The key of a given version, to read what was written under it."""
        cached = self._cache.get((contract, purpose, version))
        if cached is not None:
            return cached
        return self._load(contract, purpose, version)[1]

    def token_key(self, contract: str) -> bytes:
        return self.current(contract, TOKEN)[1]
