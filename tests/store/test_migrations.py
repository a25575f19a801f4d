"""Schema migrations on both stores: idempotent, safe when several processes run them at once, checked
at start without writing, and a store migrated by a newer Aduana is refused."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from backends import migrate_in_process

from gateway.errors import StoreError
from gateway.store import Database, open_database
from gateway.store.migrations import MIGRATIONS, applied_versions, check_current, migrate, pending, unknown

ALL = [m.version for m in MIGRATIONS]
TABLES = ("store_meta", "data_keys", "credentials", "vault", "audit_head", "audit_records", "audit_checkpoints",
          "audit_anchors")


def test_a_new_store_has_every_migration_pending(store_url: str) -> None:
    db = open_database(store_url)
    try:
        assert [m.version for m in pending(db)] == ALL
        with pytest.raises(StoreError, match=r"needs migrations 1 .*run `aduana store migrate"):
            check_current(db)
    finally:
        db.close()


def test_checking_a_new_store_writes_nothing(store_url: str) -> None:
    db = open_database(store_url)
    try:
        with pytest.raises(StoreError):
            check_current(db)
        assert applied_versions(db) == set()
        with db.transaction() as tx:  # the bookkeeping table itself was not created by the check
            if db.dialect == "postgresql":
                assert tx.fetchone("SELECT to_regclass('schema_migrations')") == (None,)
            else:
                assert tx.fetchone("SELECT COUNT(*) FROM sqlite_master") == (0,)
    finally:
        db.close()


def test_migrate_applies_all_once_and_is_idempotent(store_url: str) -> None:
    db = open_database(store_url)
    try:
        assert [m.version for m in migrate(db)] == ALL
        assert migrate(db) == []
        check_current(db)
        assert applied_versions(db) == set(ALL)
        with db.transaction() as tx:
            for table in TABLES:
                tx.fetchall(f"SELECT * FROM {table} LIMIT 1")  # exists
            assert tx.fetchone("SELECT seq FROM audit_head WHERE id = 1") == (0,)
    finally:
        db.close()


def test_concurrent_migrations_in_threads(store_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        db = open_database(store_url)
        try:
            barrier.wait()
            migrate(db)
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = open_database(store_url)
    try:
        check_current(db)
        with db.transaction() as tx:
            assert tx.fetchone("SELECT COUNT(*) FROM schema_migrations") == (len(ALL),)
            assert tx.fetchone("SELECT COUNT(*) FROM audit_head") == (1,)
    finally:
        db.close()


def test_concurrent_migrations_in_processes(store_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=migrate_in_process, args=(store_url,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    db = open_database(store_url)
    try:
        check_current(db)
        assert applied_versions(db) == set(ALL)
    finally:
        db.close()


def test_a_store_migrated_by_a_newer_aduana_is_refused(db: Database) -> None:
    with db.transaction(write=True) as tx:
        tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')")
    assert unknown(db) == [999]
    with pytest.raises(StoreError, match="migrated by a newer Aduana"):
        check_current(db)


def test_start_up_does_not_create_a_missing_sqlite_store(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.db"
    with pytest.raises(StoreError, match=r"no store at .*aduana store migrate"):
        open_database(f"sqlite:///{path}", create=False)
    assert not path.exists()


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://aduana:s3cret@db.internal:5432/aduana", "postgresql://aduana:***@db.internal:5432/aduana"),
    ("postgresql://aduana@db.internal/aduana", "postgresql://aduana@db.internal/aduana"),
    ("sqlite:////var/lib/aduana/aduana.db", "sqlite:////var/lib/aduana/aduana.db"),
])
def test_store_urls_are_shown_without_passwords(url: str, shown: str) -> None:
    from gateway.store.base import describe_url

    assert describe_url(url) == shown


def test_an_unreachable_postgresql_fails_with_a_clear_error() -> None:
    from gateway.store.postgres import PostgresDatabase

    with pytest.raises(StoreError, match=r"cannot connect to the PostgreSQL store postgresql://x:\*\*\*@127\.0\.0\.1:9/"):
        PostgresDatabase("postgresql://x:pw@127.0.0.1:9/none?connect_timeout=1", connect_timeout=2)
