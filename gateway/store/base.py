"""The store interface and the factory that picks a backend from the store URL."""

from __future__ import annotations

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

    def transaction(self, *, write: bool = False) -> AbstractContextManager[Transaction]:
        """Open a transaction. ``write=True`` takes the write lock up front (SQLite ``BEGIN IMMEDIATE``),
        so read-then-write sequences such as appending to the audit chain cannot interleave."""
        ...

    def files(self) -> list[str]:
        """Files on disk that hold this store (for leak scans and compaction); empty for a server."""
        ...

    def compact(self) -> None:
        """Reclaim space of deleted rows so no copy of them survives on disk."""
        ...

    def close(self) -> None: ...


def open_database(url: str) -> Database:
    """Open the store named by ``url`` (``sqlite:///PATH`` or ``postgresql://…``)."""
    if url.startswith("sqlite:///"):
        from gateway.store.sqlite import SqliteDatabase

        return SqliteDatabase(url)
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.store.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ValueError(f"unsupported store URL {url!r}: expected sqlite:///PATH or postgresql://…")
