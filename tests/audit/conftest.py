"""Fixtures for the audit trail tests: a real SQLite store in tmp_path, a key ring, a stepping clock."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

# The helpers module beside this file is imported by the tests and by spawned worker processes.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import StepClock

from gateway.audit import AuditLog
from gateway.audit.retention import DEFAULT_MIN_RETENTION
from gateway.keys.keyring import KeyRing
from gateway.runtime import Runtime
from gateway.store import Database, open_database
from gateway.store.migrations import migrate


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'aduana.db'}")
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def keyring(db: Database) -> KeyRing:
    return KeyRing(db, os.urandom(32))


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def log(db: Database, keyring: KeyRing, clock: StepClock) -> AuditLog:
    return AuditLog(db, keyring, now=clock)


class _NoPlugins:
    def audit_record(self, record: object) -> list[tuple[str, BaseException]]:
        return []


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, db: Database, keyring: KeyRing) -> Callable[..., Result]:
    """Run ``aduana audit …`` against the test store (the runtime is replaced, not the commands)."""
    import gateway.cli.audit as audit_cli

    @contextmanager
    def fake_runtime(config_path: Path) -> Iterator[Runtime]:
        yield Runtime(config=None, plugins=_NoPlugins(), db=db, keyring=keyring)  # type: ignore[arg-type]

    monkeypatch.setattr(audit_cli, "open_runtime", fake_runtime)
    monkeypatch.setattr(audit_cli, "policy_retention", lambda rt: (DEFAULT_MIN_RETENTION, "six years (test)"))
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(audit_cli.command, list(args), input=input, catch_exceptions=False)

    return run
