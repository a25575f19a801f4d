"""PostgreSQL behind the store interface, for several gateway processes or hosts sharing state."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from gateway.errors import StoreError
from gateway.store.base import Row, describe_url

_PLACEHOLDER = re.compile(r"\?")
_cursor_names = itertools.count(1)


def _pg(sql: str) -> str:
    # Portable SQL uses ?; psycopg wants %s (and a literal % doubled).
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


class _PgTx:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._conn.execute(_pg(sql), tuple(params))
        return int(cur.rowcount)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = self._conn.execute(_pg(sql), tuple(params)).fetchone()
        return _plain(row) if row is not None else None

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [_plain(r) for r in self._conn.execute(_pg(sql), tuple(params)).fetchall()]

    def iterate(self, sql: str, params: Sequence[Any] = (), batch: int = 500) -> Iterator[Row]:
        # Server-side cursor names are per connection; a counter lets several streams interleave.
        with self._conn.cursor(name=f"aduana_iter_{next(_cursor_names)}") as cur:
            cur.itersize = batch
            cur.execute(_pg(sql), tuple(params))
            for row in cur:
                yield _plain(row)


def _plain(row: Sequence[Any]) -> Row:
    # bytea arrives as memoryview; callers expect bytes as from SQLite.
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


class PostgresDatabase:
    """A pooled PostgreSQL connection. ``transaction(write=True)`` is a normal transaction: writers that
    need to serialize (the audit chain, key creation) take their own row or advisory locks."""

    dialect = "postgresql"

    def __init__(self, url: str, *, max_size: int = 8, connect_timeout: float = 10.0) -> None:
        self.url = url
        self._pool = ConnectionPool(url, min_size=1, max_size=max_size, open=False,
                                    kwargs={"autocommit": False}, timeout=connect_timeout,
                                    name="aduana-store")
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except Exception as exc:
            self._pool.close()  # stop the pool's reconnect workers: start-up has failed
            raise StoreError(
                f"cannot connect to the PostgreSQL store {describe_url(url)}: {type(exc).__name__}"
            ) from exc

    @contextmanager
    def transaction(self, *, write: bool = False, durable: bool = True) -> Iterator[_PgTx]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                if not durable:
                    # Ordered in the WAL like any commit; the next synchronous commit flushes it too.
                    conn.execute("SET LOCAL synchronous_commit TO OFF")
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
            try:
                conn.execute("VACUUM")
            finally:
                conn.autocommit = False

    def close(self) -> None:
        self._pool.close()
