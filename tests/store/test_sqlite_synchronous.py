"""``store.sqlite.synchronous``: FULL by default, NORMAL when configured, and non-durable blocks restore it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.store import open_database
from gateway.store.sqlite import SqliteDatabase

LEVELS = {"full": 2, "normal": 1}


def level(db: SqliteDatabase) -> int:
    return int(db._connect().execute("PRAGMA synchronous").fetchone()[0])


@pytest.mark.parametrize("setting", ["full", "normal"])
def test_connections_use_the_configured_level(tmp_path: Path, setting: str) -> None:
    db = open_database(f"sqlite:///{tmp_path / 's.db'}", sqlite_synchronous=setting)
    assert isinstance(db, SqliteDatabase)
    try:
        assert level(db) == LEVELS[setting]
        with db.transaction(write=True, durable=False) as tx:
            tx.execute("CREATE TABLE t (x INTEGER)")
            assert level(db) == LEVELS["normal"]
        assert level(db) == LEVELS[setting]  # a non-durable block never weakens a FULL store for good
    finally:
        db.close()


def test_default_is_full_and_unknown_levels_are_refused(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 's.db'}")
    assert isinstance(db, SqliteDatabase)
    try:
        assert level(db) == LEVELS["full"]
    finally:
        db.close()
    with pytest.raises(ValueError, match="full' or 'normal"):
        SqliteDatabase(f"sqlite:///{tmp_path / 't.db'}", synchronous="off")


def test_the_config_option_reaches_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.runtime import open_runtime

    (tmp_path / "aduana.yaml").write_text(
        "store: {url: 'sqlite:///s.db', sqlite: {synchronous: normal}}\n"
        "keys: {master_key: 'env:ADUANA_TEST_SYNC_KEY'}\n"
        "contracts:\n  acme:\n    vendor: Acme\n    policy_packs: [gdpr]\n"
        "    routes: [{name: h, prefix: /h, upstream: 'http://127.0.0.1:9'}]\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "aduana.yaml")
    assert config.store.sqlite.synchronous == "normal"
    monkeypatch.setenv("ADUANA_TEST_SYNC_KEY", base64.b64encode(os.urandom(32)).decode())
    runtime = open_runtime(config, check_schema=False)
    try:
        assert isinstance(runtime.db, SqliteDatabase)
        assert level(runtime.db) == LEVELS["normal"]
    finally:
        runtime.close()
