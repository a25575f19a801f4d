"""The store backends every storage test runs against, and helpers spawned worker processes import.

``db`` is parametrized over ``sqlite`` (a file in tmp_path) and ``postgresql`` (a schema of its own in the
throwaway cluster of tests/pg.py), so one test body checks both implementations of the interface.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.keys.keyring import KeyRing
from gateway.store import Database, open_database
from gateway.store.migrations import migrate
from gateway.vault import Vault

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'aduana.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    """A migrated store of each kind."""
    database = open_database(store_url)
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def master() -> bytes:
    return os.urandom(32)


# --- worker-process bodies (spawned: they must live in an importable module) -------------------------


def tokenize_in_process(url: str, master: bytes, values: list[str], out: object) -> None:
    """Tokenize ``values`` in a fresh process; put ``[(value, token)]`` on the queue ``out``."""
    db = open_database(url)
    try:
        vault = Vault(db, KeyRing(db, master))
        out.put([(v, vault.tokenize("acme", "PERSON", v)) for v in values])  # type: ignore[attr-defined]
    finally:
        db.close()


def migrate_in_process(url: str) -> None:
    db = open_database(url)
    try:
        migrate(db)
    finally:
        db.close()


def create_keys_in_process(url: str, master: bytes, contracts: list[str], out: object) -> None:
    db = open_database(url)
    try:
        ring = KeyRing(db, master)
        out.put([(c, ring.current(c)[0], ring.current(c)[1].hex()) for c in contracts])  # type: ignore[attr-defined]
    finally:
        db.close()
