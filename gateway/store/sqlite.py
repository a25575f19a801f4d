"""The embedded SQLite store: one file in WAL mode, durable commits, zeroed deletions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.errors import StoreError
from gateway.store.base import Row


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, tuple(params)).rowcount

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = self._conn.execute(sql, tuple(params)).fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> Iterator[Row]:
        cursor = self._conn.execute(sql, tuple(params))
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield tuple(row)


class SqliteDatabase:
    """SQLite behind the store interface.

    One connection per thread (SQLite connections are not shared across threads); writers serialize
    on SQLite's own lock with a busy timeout, so several processes on one host can share the file.
    ``synchronous=FULL`` makes a commit durable before it returns: the audit trail relies on it.
    ``secure_delete`` overwrites deleted content, so deleted rows leave no readable trace in the file.
    """

    dialect = "sqlite"

    def __init__(self, url: str, *, busy_timeout_ms: int = 10_000, create: bool = True) -> None:
        self.url = url
        self.path = Path(url.removeprefix("sqlite:///"))
        if not create and not self.path.is_file():
            raise StoreError(f"there is no store at {self.path}: create it with `aduana store migrate`")
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=self._busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from exc
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, write: bool = False, durable: bool = True) -> Iterator[_SqliteTx]:
        conn = self._connect()
        try:
            if not durable:
                # WAL + NORMAL: the commit is atomic but not yet synced; the next FULL commit syncs
                # the WAL, which holds this one too (see Database.transaction).
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            self._restore_sync(conn, durable)
            raise StoreError(f"cannot begin a transaction on {self.path}: {exc}") from exc
        try:
            yield _SqliteTx(conn)
        except BaseException as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self._restore_sync(conn, durable)
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"SQLite store {self.path}: {exc}") from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise StoreError(f"commit failed on {self.path}: {exc}") from exc
        finally:
            self._restore_sync(conn, durable)

    @staticmethod
    def _restore_sync(conn: sqlite3.Connection, durable: bool) -> None:
        if not durable:
            try:
                conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error:  # the connection is broken; the next use reports it
                pass

    def files(self) -> list[str]:
        base = str(self.path)
        return [p for p in (base, base + "-wal", base + "-shm", base + "-journal") if Path(p).exists()]

    def compact(self) -> None:
        conn = self._connect()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
