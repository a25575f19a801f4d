"""A store wrapper that fails on demand, at the store boundary, as a broken disk or server would.

``FaultyDatabase`` wraps a real :class:`gateway.store.base.Database`. Set ``down`` to make every
transaction fail to begin (the server is unreachable), or ``fail_sql`` to a pattern: a statement that
matches raises SQLite's own ``database or disk is full`` (or ``locked``) inside the transaction, which
the real store rolls back and reports as :class:`gateway.errors.StoreError`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gateway.errors import StoreError
from gateway.store.base import Database, Row, Transaction

DISK_FULL = "database or disk is full"
LOCKED = "database is locked"


class _FaultyTx:
    def __init__(self, tx: Transaction, owner: FaultyDatabase) -> None:
        self._tx = tx
        self._owner = owner

    def _check(self, sql: str) -> None:
        if self._owner.fail_sql is not None and self._owner.fail_sql.search(sql):
            self._owner.failures += 1
            raise sqlite3.OperationalError(self._owner.error)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._check(sql)
        return self._tx.execute(sql, params)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self._check(sql)
        return self._tx.fetchone(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._check(sql)
        return self._tx.fetchall(sql, params)

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> Iterator[Row]:
        self._check(sql)
        return self._tx.iterate(sql, params, batch)


class FaultyDatabase:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.dialect = db.dialect
        self.url = db.url
        self.down = False
        self.fail_sql: re.Pattern[str] | None = None
        self.error = DISK_FULL
        self.failures = 0

    def fail(self, pattern: str | None, error: str = DISK_FULL) -> None:
        """Fail statements matching ``pattern`` (a regex) with SQLite's ``error``; ``None`` heals."""
        self.fail_sql = re.compile(pattern) if pattern else None
        self.error = error

    @contextmanager
    def transaction(self, *, write: bool = False, durable: bool = True) -> Iterator[Transaction]:
        if self.down:
            self.failures += 1
            raise StoreError("the store is unreachable (injected)")
        with self._db.transaction(write=write, durable=durable) as tx:
            yield _FaultyTx(tx, self)

    def files(self) -> list[str]:
        return self._db.files()

    def compact(self) -> None:
        self._db.compact()

    def close(self) -> None:
        self._db.close()
