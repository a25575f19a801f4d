"""The store interface itself, on both backends: commit, roll back on error, stream, serialize."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.errors import StoreError
from gateway.store import Database
from gateway.store.base import lock_id, serialize


def _meta(db: Database, name: str) -> str | None:
    with db.transaction() as tx:
        row = tx.fetchone("SELECT value FROM store_meta WHERE name = ?", (name,))
    return None if row is None else str(row[0])


class Boom(Exception):
    pass


@pytest.mark.parametrize("durable", [True, False])
def test_a_clean_block_commits(db: Database, durable: bool) -> None:
    with db.transaction(write=True, durable=durable) as tx:
        assert tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", ("k", "v")) == 1
    assert _meta(db, "k") == "v"


@pytest.mark.parametrize("durable", [True, False])
def test_an_exception_rolls_everything_back(db: Database, durable: bool) -> None:
    def write_then_fail() -> None:
        with db.transaction(write=True, durable=durable) as tx:
            tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", ("a", "1"))
            tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", ("b", "2"))
            raise Boom

    with pytest.raises(Boom):
        write_then_fail()
    assert _meta(db, "a") is None and _meta(db, "b") is None
    # the connection is usable afterwards (and back to durable commits)
    with db.transaction(write=True) as tx:
        tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", ("c", "3"))
    assert _meta(db, "c") == "3"


def test_a_failing_statement_is_a_store_error_and_rolls_back(db: Database) -> None:
    def duplicate() -> None:
        with db.transaction(write=True) as tx:
            tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", ("x", "1"))
            tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", ("x", "2"))  # primary key

    with pytest.raises(StoreError):
        duplicate()
    assert _meta(db, "x") is None


def test_fetch_helpers_and_placeholders(db: Database) -> None:
    with db.transaction(write=True) as tx:
        for i in range(5):
            tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", (f"n{i}", f"{i}% done"))
    with db.transaction() as tx:
        assert tx.fetchone("SELECT value FROM store_meta WHERE name = ?", ("n3",)) == ("3% done",)
        assert tx.fetchone("SELECT value FROM store_meta WHERE name = ?", ("none",)) is None
        rows = tx.fetchall("SELECT name FROM store_meta WHERE value LIKE '%done' ORDER BY name")
        assert rows == [(f"n{i}",) for i in range(5)]


def test_iterate_streams_in_batches_and_interleaves(db: Database) -> None:
    with db.transaction(write=True) as tx:
        for i in range(1200):
            tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", (f"r{i:05d}", str(i)))
    with db.transaction() as tx:
        first = tx.iterate("SELECT name, value FROM store_meta WHERE name LIKE 'r%' ORDER BY name", batch=100)
        second = tx.iterate("SELECT value FROM store_meta WHERE name LIKE 'r%' ORDER BY name", batch=7)
        assert next(first) == ("r00000", "0")
        assert next(second) == ("0",)  # two open streams in one transaction
        rest = list(first)
        assert len(rest) == 1199 and rest[-1] == ("r01199", "1199")
        assert sum(1 for _ in second) == 1199


def test_blobs_come_back_as_bytes(db: Database) -> None:
    blob = bytes(range(256))
    with db.transaction(write=True) as tx:
        tx.execute(
            "INSERT INTO credentials (key_id, contract, secret_hash, created_at) VALUES (?, ?, ?, ?)",
            ("k_1", "acme", blob, "2025-01-01"),
        )
    with db.transaction() as tx:
        (value,) = tx.fetchone("SELECT secret_hash FROM credentials") or (None,)
    assert isinstance(value, bytes) and value == blob


def test_serialized_write_transactions_do_not_interleave(db: Database) -> None:
    """Read-modify-write under ``serialize`` never loses an update (the keyring relies on this)."""
    with db.transaction(write=True) as tx:
        tx.execute("INSERT INTO store_meta (name, value) VALUES ('counter', '0')")

    def bump() -> None:
        for _ in range(10):
            with db.transaction(write=True) as tx:
                serialize(db, tx, "test-counter")
                (value,) = tx.fetchone("SELECT value FROM store_meta WHERE name = 'counter'") or ("0",)
                time.sleep(0.001)
                tx.execute("UPDATE store_meta SET value = ? WHERE name = 'counter'", (str(int(value) + 1),))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _meta(db, "counter") == "40"


def test_lock_ids_are_stable_signed_64_bit() -> None:
    assert lock_id("keys") == lock_id("keys") != lock_id("schema-migrations")
    assert -(2**63) <= lock_id("keys") < 2**63


def test_files_and_compact(db: Database) -> None:
    with db.transaction(write=True) as tx:
        tx.execute("INSERT INTO store_meta (name, value) VALUES ('gone', 'zz-deleted-marker-zz')")
    with db.transaction(write=True) as tx:
        tx.execute("DELETE FROM store_meta WHERE name = 'gone'")
    db.compact()
    if db.dialect == "sqlite":
        files = db.files()
        assert files and files[0].endswith("aduana.db")
        for path in files:
            with open(path, "rb") as fh:
                assert b"zz-deleted-marker-zz" not in fh.read()
    else:
        assert db.files() == []
