"""The embedded SQLite store: one file in WAL mode, durable commits, zeroed deletions."""

from __future__ import annotations

import sqlite3
import threading
import time
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
    ``synchronous=FULL`` (the default) makes a commit durable before it returns: the audit trail relies
    on it. ``synchronous="normal"`` (``store.sqlite.synchronous``) trades that for one fsync less per
    commit: with WAL a commit still survives a crash or kill of the process, but the last commits may be
    lost on a power loss or OS crash (docs/configuration.md).
    ``secure_delete`` overwrites deleted content, so deleted rows leave no readable trace in the file.
    """

    dialect = "sqlite"

    def __init__(
        self, url: str, *, busy_timeout_ms: int = 10_000, create: bool = True, synchronous: str = "full"
    ) -> None:
        if synchronous not in ("full", "normal"):
            raise ValueError("synchronous must be 'full' or 'normal'")
        self.url = url
        self.synchronous = synchronous
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
            self._use_wal(conn)
            conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from exc
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (once per file; it persists), waiting out a concurrent opener.

        Changing the journal mode needs an exclusive lock, and SQLite answers "database is locked"
        at once instead of calling the busy handler; threads or processes opening a new store together
        must wait for each other, within the busy timeout.
        """
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            try:
                if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def transaction(self, *, write: bool = False, durable: bool = True) -> Iterator[_SqliteTx]:
        conn = self._connect()
        try:
            if not durable and self.synchronous == "full":
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

    def _restore_sync(self, conn: sqlite3.Connection, durable: bool) -> None:
        if not durable and self.synchronous == "full":
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
