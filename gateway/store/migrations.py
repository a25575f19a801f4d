"""Versioned schema migrations, applied by ``aduana store migrate`` and checked at start.

Each migration has a version, a name and its SQL per dialect. Never edit a released migration: add one.

Rules this module keeps:
1. Applying is idempotent and safe with several processes at once: every migration runs in its own
   transaction under one store-wide lock, and re-checks that it is still pending inside it.
2. Checking (:func:`check_current`, at every start) only reads: a store that is behind, or ahead of
   this version of Aduana, is refused before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.errors import StoreError
from gateway.store.base import Database, Transaction, describe_url, serialize


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def _both(*statements: str, blob: str = "BLOB") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The same DDL for both dialects, with ``{blob}`` standing for the binary column type."""
    sqlite = tuple(s.format(blob="BLOB") for s in statements)
    pg = tuple(s.format(blob="BYTEA") for s in statements)
    return sqlite, pg


_V1 = _both(
    # Key-value facts about the store itself, e.g. which master key wraps its data keys.
    """CREATE TABLE store_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    # Per-contract keys, only ever stored wrapped by the master key.
    """CREATE TABLE data_keys (
        key_id TEXT PRIMARY KEY,
        contract TEXT NOT NULL,
        purpose TEXT NOT NULL,
        version INTEGER NOT NULL,
        wrapped {blob} NOT NULL,
        master_key_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        UNIQUE (contract, purpose, version))""",
    # Vendor API keys: only a keyed hash of the secret is stored.
    """CREATE TABLE credentials (
        key_id TEXT PRIMARY KEY,
        contract TEXT NOT NULL,
        secret_hash {blob} NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT)""",
    # The token vault: token -> value encrypted under the contract's data key; lookups by blind index.
    """CREATE TABLE vault (
        contract TEXT NOT NULL,
        token TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        blind_index {blob} NOT NULL,
        key_version INTEGER NOT NULL,
        ciphertext {blob} NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (contract, token),
        UNIQUE (contract, blind_index))""",
)

_V2 = _both(
    # The audit chain's head: one row, read and advanced under lock by every append (gateway/audit/log.py).
    """CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL,
        time TEXT NOT NULL)""",
    """INSERT INTO audit_head (id, seq, hash, time)
        VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', '')""",
    # Audit records: ``body`` is the canonical JSON the chain hashes; time/contract/vendor are copies for
    # filtering only (the verifier checks they agree with the body).
    """CREATE TABLE audit_records (
        seq BIGINT PRIMARY KEY,
        time TEXT NOT NULL,
        contract TEXT,
        vendor TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        body TEXT NOT NULL)""",
    """CREATE INDEX audit_records_time ON audit_records (time)""",
    # Signed checkpoints of the head; ``statement`` is the signed JSON including its signature.
    """CREATE TABLE audit_checkpoints (
        seq BIGINT NOT NULL,
        time TEXT NOT NULL,
        hash TEXT NOT NULL,
        key_id TEXT NOT NULL,
        statement TEXT NOT NULL,
        PRIMARY KEY (seq, time))""",
    # Signed retention anchors: where the chain resumes after a purge.
    """CREATE TABLE audit_anchors (
        seq BIGINT PRIMARY KEY,
        time TEXT NOT NULL,
        statement TEXT NOT NULL)""",
)

_V3 = _both(
    # Key rotation re-encrypts a contract's records key version by key version, and `keys status`
    # counts records per version: both walk this index instead of the whole vault.
    """CREATE INDEX vault_key_version ON vault (contract, key_version, token)""",
)

_V20 = _both(
    # The lifecycle of each contract (gateway/lifecycle/state.py): the config lists a contract, the store
    # says whether it is active, on legal hold, being terminated (and which step is done) or terminated.
    # ``progress`` holds each finished termination step's result as JSON (counts computed before the
    # destruction they describe); ``certificate`` the signed destruction certificate, issued once.
    """CREATE TABLE contract_state (
        contract TEXT PRIMARY KEY,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'terminating', 'terminated')),
        hold_reason TEXT,
        hold_since TEXT,
        hold_actor TEXT,
        step TEXT,
        progress TEXT NOT NULL DEFAULT '{{}}',
        certificate TEXT,
        started_at TEXT,
        terminated_at TEXT,
        notified_at TEXT,
        updated_at TEXT NOT NULL)""",
    # The retention sweeper deletes vault records by age, contract by contract.
    """CREATE INDEX vault_created_at ON vault (contract, created_at)""",
)


# Admin API tokens (role-scoped; only a keyed hash of the secret is stored). Numbered 30+ to leave room.
_V30 = _both(
    """CREATE TABLE admin_tokens (
        token_id TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        secret_hash {blob} NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT)""",
)

MIGRATIONS: list[Migration] = [
    Migration(1, "keys, credentials and the token vault", *_V1),
    Migration(2, "the audit trail: hash-chained records, checkpoints, retention anchors", *_V2),
    Migration(3, "an index of vault records by key version, for key rotation", *_V3),
    # 20 and up: the contract lifecycle (retention, legal hold, termination).
    Migration(20, "contract lifecycle: status, legal hold, termination progress, certificate", *_V20),
    Migration(30, "admin API tokens", *_V30),
]

_LOCK = "schema-migrations"
_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _has_table(db: Database, tx: Transaction) -> bool:
    if db.dialect == "postgresql":
        row = tx.fetchone("SELECT to_regclass('schema_migrations') IS NOT NULL")
        return bool(row and row[0])
    return tx.fetchone("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") is not None


def applied_versions(db: Database) -> set[int]:
    """The versions applied to the store (read only: a new store has none)."""
    with db.transaction() as tx:
        if not _has_table(db, tx):
            return set()
        return {int(r[0]) for r in tx.fetchall("SELECT version FROM schema_migrations")}


def pending(db: Database) -> list[Migration]:
    done = applied_versions(db)
    return [m for m in MIGRATIONS if m.version not in done]


def unknown(db: Database) -> list[int]:
    """Versions applied to the store that this Aduana does not know (a newer one migrated it)."""
    known = {m.version for m in MIGRATIONS}
    return sorted(v for v in applied_versions(db) if v not in known)


def migrate(db: Database) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return what was applied."""
    with db.transaction(write=True) as tx:
        serialize(db, tx, _LOCK)  # concurrent CREATE TABLE IF NOT EXISTS races on PostgreSQL
        tx.execute(_TABLE)
    applied = []
    for migration in pending(db):
        with db.transaction(write=True) as tx:
            serialize(db, tx, _LOCK)
            # Another process may have applied it meanwhile (several replicas starting together).
            if tx.fetchone("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)):
                continue
            for statement in migration.statements(db.dialect):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
        applied.append(migration)
    return applied


def check_current(db: Database) -> None:
    """Raise :class:`StoreError` when the store's schema is behind or ahead of this version of Aduana."""
    where = describe_url(db.url)
    ahead = unknown(db)
    if ahead:
        raise StoreError(
            f"the store at {where} has migrations {', '.join(map(str, ahead))} that this version of Aduana "
            "does not know: it was migrated by a newer Aduana; upgrade this one"
        )
    todo = pending(db)
    if todo:
        names = ", ".join(f"{m.version} ({m.name})" for m in todo)
        raise StoreError(
            f"the store at {where} needs migrations {names}: run `aduana store migrate --config FILE`"
        )
