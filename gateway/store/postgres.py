"""PostgreSQL behind the store interface, for several gateway processes or hosts sharing state."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from gateway.errors import StoreError
from gateway.store.base import Row

_PLACEHOLDER = re.compile(r"\?")


def _pg(sql: str) -> str:
    # Portable SQL uses ?; psycopg wants %s (and a literal % doubled).
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


class _PgTx:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._conn.execute(_pg(sql), tuple(params))  # type: ignore[call-overload]
        return int(cur.rowcount)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = self._conn.execute(_pg(sql), tuple(params)).fetchone()  # type: ignore[call-overload]
        return _plain(row) if row is not None else None

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [_plain(r) for r in self._conn.execute(_pg(sql), tuple(params)).fetchall()]  # type: ignore[call-overload]

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> Iterator[Row]:
        with self._conn.cursor(name="aduana_iter") as cur:
            cur.itersize = batch
            cur.execute(_pg(sql), tuple(params))  # type: ignore[call-overload]
            for row in cur:
                yield _plain(row)


def _plain(row: Sequence[Any]) -> Row:
    # bytea arrives as memoryview; callers expect bytes as from SQLite.
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


class PostgresDatabase:
    """A pooled PostgreSQL connection. ``transaction(write=True)`` is a normal transaction: writers that
    need to serialize (the audit chain, key creation) take their own row or advisory locks."""

    dialect = "postgresql"

    def __init__(self, url: str, *, max_size: int = 8) -> None:
        self.url = url
        try:
            self._pool = ConnectionPool(url, min_size=1, max_size=max_size, open=True,
                                        kwargs={"autocommit": False}, timeout=10)
            self._pool.wait(timeout=10)
        except Exception as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {type(exc).__name__}") from exc

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[_PgTx]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield _PgTx(conn)
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store: {type(exc).__name__}: {exc}") from exc

    def files(self) -> list[str]:
        return []

    def compact(self) -> None:
        # Deleted rows are unreachable at once; VACUUM reclaims their pages so a later dump or
        # page scan holds no copy.
        with self._pool.connection() as conn:
            conn.autocommit = True
            conn.execute("VACUUM")

    def close(self) -> None:
        self._pool.close()
