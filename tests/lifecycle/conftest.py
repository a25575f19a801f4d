"""Fixtures for the lifecycle tests: a migrated store of each kind, a key ring, a clock, two contracts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers module beside this file is imported by the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from backends import db as _store_db
from backends import master as _store_master
from backends import store_url  # noqa: F401  (fixture)
from lifecycle_support import Clock, Seeded, seed

from gateway.audit import AuditLog
from gateway.keys.keyring import KeyRing
from gateway.store import Database

# The store fixtures, parametrized over SQLite and PostgreSQL (tests/backends.py).
db = _store_db
master = _store_master


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keyring(db: Database, master: bytes) -> KeyRing:
    return KeyRing(db, master)


@pytest.fixture
def log(db: Database, keyring: KeyRing, clock: Clock) -> AuditLog:
    return AuditLog(db, keyring, now=clock)


@pytest.fixture
def seeded(db: Database, keyring: KeyRing) -> Seeded:
    return seed(db, keyring)
