"""The store interface and the factory that picks a backend from the store URL."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = tuple[Any, ...]


class Transaction(Protocol):
    """An open transaction: run statements, read rows. Commits when the block exits cleanly."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> Iterator[Row]:
        """Stream rows without holding the whole result in memory."""
        ...


class Database(Protocol):
    """A connection pool to one store."""

    dialect: str  # "sqlite" or "postgresql"
    url: str

    def transaction(self, *, write: bool = False, durable: bool = True) -> AbstractContextManager[Transaction]:
        """Open a transaction. ``write=True`` takes the write lock up front (SQLite ``BEGIN IMMEDIATE``),
        so read-then-write sequences such as appending to the audit chain cannot interleave.

        ``durable=False`` lets the commit return before it reaches the disk (SQLite ``synchronous=NORMAL``
        in WAL mode, PostgreSQL ``synchronous_commit=off``). The commit is still atomic and ordered: a
        power loss can only drop the newest such commits, and the next durable commit on the store
        makes every earlier one durable too (both logs are flushed sequentially). Use it only where a
        durable commit follows before anything depends on the row — the vault's inserts, which the
        request's audit record (always durable) follows before the response is released.
        """
        ...

    def files(self) -> list[str]:
        """Files on disk that hold this store (for leak scans and compaction); empty for a server."""
        ...

    def compact(self) -> None:
        """Reclaim space of deleted rows so no copy of them survives on disk."""
        ...

    def close(self) -> None: ...


def lock_id(name: str) -> int:
    """A stable signed 64-bit number for a named lock (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(b"aduana-lock-v1\n" + name.encode()).digest()[:8], "big", signed=True)


def serialize(db: Database, tx: Transaction, name: str) -> None:
    """Serialize ``tx`` with every other transaction that calls this with the same ``name``.

    SQLite's write transactions are already exclusive (``BEGIN IMMEDIATE``); on PostgreSQL this takes a
    transaction-scoped advisory lock, released at commit or rollback.
    """
    if db.dialect == "postgresql":
        tx.fetchone("SELECT pg_advisory_xact_lock(?)", (lock_id(name),))


def describe_url(url: str) -> str:
    """The store URL without a password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def open_database(url: str, *, create: bool = True, sqlite_synchronous: str = "full") -> Database:
    """Open the store named by ``url`` (``sqlite:///PATH`` or ``postgresql://…``).

    ``create=False`` refuses to create a SQLite file that does not exist yet (start-up must not write).
    ``sqlite_synchronous`` is ``store.sqlite.synchronous`` (``full`` or ``normal``; SQLite only).
    """
    if url.startswith("sqlite:///"):
        from gateway.store.sqlite import SqliteDatabase

        return SqliteDatabase(url, create=create, synchronous=sqlite_synchronous)
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.store.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ValueError(f"unsupported store URL {describe_url(url)!r}: expected sqlite:///PATH or postgresql://…")
