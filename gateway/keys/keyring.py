"""Per-contract keys, stored only wrapped by the master key.

Rules this module keeps:
1. A contract key exists in the store only wrapped (AES-256-GCM) by the master key. The wrapping's
   associated data binds it to its contract, purpose, version and key id; the row names the master
   key id that wraps it.
2. ``store_meta.master_key_id`` names the one master key of the store. A key is wrapped only after that
   row was re-read, under the store-wide key lock, inside the transaction that writes the key: a
   gateway still holding the old master after ``aduana keys rotate-master`` can never add a key
   wrapped by it. It re-reads its key provider once (a replaced key file is picked up) and otherwise
   refuses with :class:`KeyError_`.
3. Unwrapped keys are cached for the life of the process, so a running gateway keeps serving every
   contract it knows while the master key is rotated under it — except a contract whose termination
   has started: the server drops its keys within seconds (``forget_contract``, called by
   ``gateway.lifecycle.state.forget_ended_keys``).
4. The version new writes use is re-read at least every ``current_ttl`` seconds (an injectable clock),
   so a version started by ``aduana keys rotate`` reaches every running gateway within that bound.
5. Purposes: ``data`` (AES-256-GCM for stored values; versioned, rotated by ``keys rotate``) and
   ``token`` (HMAC for tokens and blind indexes; never rotated, because the same value must keep its
   token). Internal key holders use contract names starting with ``_`` (``_audit``, ``_credentials``).

See docs/keys-and-storage.md for the hierarchy and the rotation procedures.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.errors import IntegrityError, KeyError_
from gateway.keys.crypto import canonical, key_fingerprint, new_key, open_sealed, seal
from gateway.store.base import Database, Transaction, serialize

DATA = "data"
TOKEN = "token"  # noqa: S105 - the name of a key purpose, not a secret
#: How long a gateway keeps using the data key version it last read before looking again.
CURRENT_TTL_SECONDS = 5.0
#: Serializes key creation, new versions and master rotation (PostgreSQL advisory lock name).
KEYS_LOCK = "keys"
#: Key rows with status 'active' or 'retired' (a rotated-away version) can still be unwrapped; other
#: states (a lifecycle step's 'destroyed') cannot.

Clock = Callable[[], float]
MasterSource = Callable[[], bytes]
Initial = Callable[[bytes], bytes]


def wrap_ad(contract: str, purpose: str, version: int, key_id: str) -> bytes:
    return canonical("aduana-wrap-v1", contract, purpose, version, key_id)


@dataclass(frozen=True)
class SealedTable:
    """A table holding values sealed under a contract's data key (the vault; any future queue or cache).

    Each row's associated data is ``canonical(label, contract, name, record id, key version)``.
    """

    name: str
    label: str
    id_column: str
    contract_column: str = "contract"
    version_column: str = "key_version"
    ciphertext_column: str = "ciphertext"

    def associated_data(self, contract: str, record_id: str, version: int) -> bytes:
        return canonical(self.label, contract, self.name, record_id, version)


class MasterChanged(KeyError_):
    """The store's master key is not the one this ring holds (it was rotated since this ring loaded)."""

    def __init__(self, store_id: str, held_id: str) -> None:
        super().__init__(
            f"the store's keys are now wrapped by master key {store_id}, this process holds {held_id}: "
            "point keys.master_key at the store's current master key and restart"
        )
        self.store_id = store_id


class MissingKeyVersion(KeyError_):
    """A key version that does not exist (or was destroyed) was asked for."""


def read_master_id(tx: Transaction) -> str | None:
    row = tx.fetchone("SELECT value FROM store_meta WHERE name = 'master_key_id'")
    return str(row[0]) if row else None


class KeyRing:
    """Unwraps and caches the contracts' keys; creates a contract's keys on first use.

    ``source`` re-reads the master key from its provider (rule 2); ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        db: Database,
        master_key: bytes,
        *,
        source: MasterSource | None = None,
        clock: Clock = time.monotonic,
        current_ttl: float = CURRENT_TTL_SECONDS,
    ) -> None:
        self._db = db
        self._master = master_key
        self.master_key_id = key_fingerprint(master_key)
        self._source = source
        self._clock = clock
        self._ttl = current_ttl
        self._cache: dict[tuple[str, str, int], bytes] = {}
        self._current: dict[tuple[str, str], tuple[int, float]] = {}
        self._lock = threading.RLock()
        self.stale = False  # set when the store moved to a master key this ring cannot load

    @property
    def db(self) -> Database:
        return self._db

    # --- the master key ------------------------------------------------------------------------

    def _mismatch(self, store_id: str) -> KeyError_:
        return KeyError_(
            f"the master key (id {self.master_key_id}) is not the one this store's keys are wrapped "
            f"with (id {store_id}): check the keys.master_key setting (after `aduana keys rotate-master`, "
            "point it at the new key and restart)"
        )

    def _reload(self, store_id: str) -> bool:
        """Re-read the provider; adopt its key only if it is the store's master (rule 2)."""
        if self._source is None:
            return False
        try:
            candidate = self._source()
        except Exception:
            return False
        if key_fingerprint(candidate) != store_id:
            return False
        with self._lock:
            self._master, self.master_key_id, self.stale = candidate, store_id, False
        return True

    def check(self) -> int:
        """Verify the master key is the store's and every stored key unwraps; return how many.

        Called at start-up (reads only) so a wrong or missing key stops the gateway before it
        touches anything.
        """
        with self._db.transaction() as tx:
            store_id = read_master_id(tx)
            rows = tx.fetchall(
                "SELECT key_id, contract, purpose, version, wrapped, master_key_id FROM data_keys"
                " WHERE status IN ('active', 'retired')"
            )
        if store_id is not None and store_id != self.master_key_id and not self._reload(store_id):
            raise self._mismatch(store_id)
        for key_id, contract, purpose, version, wrapped, wrapped_by in rows:
            self._unwrap(str(key_id), str(contract), str(purpose), int(version), bytes(wrapped), str(wrapped_by))
        return len(rows)

    def probe(self) -> bool:
        """Readiness: the store answers and this ring can serve.

        A ring whose master was rotated away keeps serving the contracts it has cached (rule 3), so it
        stays ready but is marked ``stale``; only a store it could never open makes it not ready.
        """
        with self._db.transaction() as tx:
            store_id = read_master_id(tx)
        if store_id is None or store_id == self.master_key_id or self._reload(store_id):
            return True
        with self._lock:
            self.stale = True
            return bool(self._cache)

    # --- reading keys --------------------------------------------------------------------------

    def _unwrap(self, key_id: str, contract: str, purpose: str, version: int, wrapped: bytes,
                wrapped_by: str) -> bytes:
        cache_key = (contract, purpose, version)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        if wrapped_by != self.master_key_id and not self._reload(wrapped_by):
            raise KeyError_(
                f"key {key_id} is wrapped by master key {wrapped_by}, this process holds {self.master_key_id}: "
                "restart it with the store's current master key"
            )
        with self._lock:
            master = self._master
        try:
            key = open_sealed(master, wrapped, wrap_ad(contract, purpose, version, key_id))
        except IntegrityError as exc:
            raise KeyError_(f"key {key_id} of contract {contract} cannot be unwrapped with this master key") from exc
        with self._lock:
            self._cache[cache_key] = key
        return key

    def _load(self, contract: str, purpose: str, version: int | None, initial: Initial | None) -> tuple[int, bytes]:
        sql = (
            "SELECT key_id, version, wrapped, master_key_id FROM data_keys WHERE contract = ? AND purpose = ?"
            " AND status IN ('active', 'retired')"
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
                raise MissingKeyVersion(f"contract {contract} has no {purpose} key version {version}")
            self._create(contract, purpose, 1, initial)
            return self._load(contract, purpose, 1, None)
        key_id, found, wrapped, wrapped_by = row
        return int(found), self._unwrap(str(key_id), contract, purpose, int(found), bytes(wrapped), str(wrapped_by))

    def current(self, contract: str, purpose: str = DATA, *, initial: Initial | None = None) -> tuple[int, bytes]:
        """The key new writes use: (version, key). Created on first use (``initial(master)`` or random)."""
        now = self._clock()
        with self._lock:
            entry = self._current.get((contract, purpose))
            if entry is not None and now < entry[1]:
                return entry[0], self._cache[(contract, purpose, entry[0])]
        version, key = self._load(contract, purpose, None, initial)
        with self._lock:
            self._current[(contract, purpose)] = (version, now + self._ttl)
        return version, key

    def version(self, contract: str, version: int, purpose: str = DATA) -> bytes:
        """The key of a given version, to read what was written under it."""
        cached = self._cache.get((contract, purpose, version))
        if cached is not None:
            return cached
        return self._load(contract, purpose, version, None)[1]

    def token_key(self, contract: str) -> bytes:
        return self.current(contract, TOKEN)[1]

    # --- sealed records ------------------------------------------------------------------------

    def seal_record(self, table: SealedTable, contract: str, record_id: str, plaintext: bytes) -> tuple[int, bytes]:
        """Encrypt ``plaintext`` for one row under the contract's current data key: (version, blob)."""
        version, key = self.current(contract)
        return version, seal(key, plaintext, table.associated_data(contract, record_id, version))

    def open_record(self, table: SealedTable, contract: str, record_id: str, version: int, blob: bytes) -> bytes:
        """Verify and decrypt one row; raise :class:`IntegrityError` if it was moved or altered."""
        try:
            key = self.version(contract, version)
        except MissingKeyVersion as exc:  # a row naming a version that never existed was altered
            raise IntegrityError(f"a {table.name} record names key version {version}, which {contract} lacks") from exc
        return open_sealed(key, blob, table.associated_data(contract, record_id, version))

    # --- writing keys --------------------------------------------------------------------------

    def _create(self, contract: str, purpose: str, version: int, initial: Initial | None) -> None:
        """Store a new key version (exactly one row wins if several processes race)."""
        for _attempt in range(2):
            try:
                with self._db.transaction(write=True) as tx:
                    self.insert_key_locked(tx, contract, purpose, version, initial)
                return
            except MasterChanged as changed:
                if not self._reload(changed.store_id):
                    with self._lock:
                        self.stale = True
                    raise
        raise KeyError_("the store's master key changed twice while creating a key: try again")  # pragma: no cover

    def insert_key_locked(self, tx: Transaction, contract: str, purpose: str, version: int,
                          initial: Initial | None = None) -> bool:
        """Insert a key version inside ``tx`` after re-checking the store's master (rule 2).

        Returns ``False`` when another process stored that version first; raises :class:`MasterChanged`.
        """
        with self._lock:  # one consistent (key, id) pair even if a reload runs meanwhile
            master, master_id = self._master, self.master_key_id
        serialize(self._db, tx, KEYS_LOCK)
        store_id = read_master_id(tx)
        if store_id is None:
            tx.execute("INSERT INTO store_meta (name, value) VALUES ('master_key_id', ?)", (master_id,))
        elif store_id != master_id:
            raise MasterChanged(store_id, master_id)
        key = initial(master) if initial is not None else new_key()
        key_id = f"{contract}/{purpose}/v{version}/{uuid.uuid4().hex[:12]}"
        wrapped = seal(master, key, wrap_ad(contract, purpose, version, key_id))
        return bool(tx.execute(
            "INSERT INTO data_keys (key_id, contract, purpose, version, wrapped, master_key_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (contract, purpose, version) DO NOTHING",
            (key_id, contract, purpose, version, wrapped, master_id, datetime.now(UTC).isoformat()),
        ))

    def forget_contract(self, contract: str) -> int:
        """Drop every unwrapped key of ``contract`` this process holds; return how many were held.

        Called once a contract's termination has started, so a running gateway does not keep a shredded
        contract's keys until it restarts. (Python cannot overwrite the freed bytes; the references go.)
        """
        with self._lock:
            held = [k for k in self._cache if k[0] == contract]
            for cache_key in held:
                del self._cache[cache_key]
            for current_key in [k for k in self._current if k[0] == contract]:
                del self._current[current_key]
        return len(held)

    def holds(self, contract: str) -> bool:
        """Whether this process holds any unwrapped key of ``contract``."""
        with self._lock:
            return any(k[0] == contract for k in self._cache)

    def forget_current(self, contract: str, purpose: str = DATA) -> None:
        """Drop the cached current version so the next write re-reads it (after starting a new one)."""
        with self._lock:
            self._current.pop((contract, purpose), None)

    def rotate_master(self, new_master: bytes) -> int:
        """Re-wrap every stored key under ``new_master`` in one transaction; return how many.

        No value is re-encrypted: only the wrappings change. Afterwards this ring holds the new master.
        """
        new_id = key_fingerprint(new_master)
        if new_id == self.master_key_id:
            raise KeyError_(f"the new master key is the current one (id {new_id}): nothing to rotate")
        now = datetime.now(UTC).isoformat()
        with self._db.transaction(write=True) as tx:
            serialize(self._db, tx, KEYS_LOCK)
            store_id = read_master_id(tx)
            if store_id is not None and store_id != self.master_key_id:
                raise self._mismatch(store_id)
            rows = tx.fetchall(
                "SELECT key_id, contract, purpose, version, wrapped FROM data_keys"
                " WHERE status IN ('active', 'retired') ORDER BY key_id"
            )
            for key_id, contract, purpose, version, wrapped in rows:
                ad = wrap_ad(str(contract), str(purpose), int(version), str(key_id))
                try:
                    key = open_sealed(self._master, bytes(wrapped), ad)
                except IntegrityError as exc:
                    raise KeyError_(f"key {key_id} cannot be unwrapped with the current master key") from exc
                tx.execute("UPDATE data_keys SET wrapped = ?, master_key_id = ? WHERE key_id = ?",
                           (seal(new_master, key, ad), new_id, key_id))
            for name, value in (("master_key_id", new_id), ("master_rotated_at", now)):
                if tx.execute("UPDATE store_meta SET value = ? WHERE name = ?", (value, name)) == 0:
                    tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", (name, value))
        with self._lock:
            self._master, self.master_key_id, self.stale = new_master, new_id, False
        return len(rows)
