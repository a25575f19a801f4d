"""Data key rotation on both stores: new version for new writes, batched re-encryption, resume after a
crash, damaged records, stragglers written by gateways that had not yet noticed the new version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.errors import KeyError_
from gateway.keys import rotation
from gateway.keys.keyring import KeyRing
from gateway.keys.status import key_status
from gateway.store import Database
from gateway.vault import VAULT, Vault

VALUES = [f"Person Number {i}" for i in range(37)]


class Crash(Exception):
    pass


def _versions(db: Database, contract: str = "acme") -> dict[int, int]:
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT key_version, COUNT(*) FROM vault WHERE contract = ? GROUP BY key_version",
                           (contract,))
    return {int(v): int(n) for v, n in rows}


def _seeded(db: Database, master: bytes) -> tuple[KeyRing, dict[str, str]]:
    ring = KeyRing(db, master)
    vault = Vault(db, ring)
    tokens = {v: vault.tokenize("acme", "PERSON", v) for v in VALUES}
    vault.tokenize("globex", "PERSON", VALUES[0])
    return ring, tokens


def test_a_rotation_moves_every_record_and_retires_the_old_version(db: Database, master: bytes) -> None:
    ring, tokens = _seeded(db, master)
    job = rotation.begin(ring, "acme")
    assert (job.version, job.resumed) == (2, False)
    assert key_status(db).rotations == {"acme": 2}
    seen: list[int] = []
    result = rotation.reencrypt(ring, job, [VAULT], batch=10, progress=seen.append, settle=0)
    assert (result.reencrypted, result.failed, result.finished) == (len(VALUES), 0, True)
    assert sum(seen) == len(VALUES) and max(seen) == 10
    assert _versions(db) == {2: len(VALUES)}
    assert _versions(db, "globex") == {1: 1}  # other contracts untouched
    status = {(k.contract, k.purpose, k.version): (k.status, k.current) for k in key_status(db).keys}
    assert status[("acme", "data", 1)] == ("retired", False)
    assert status[("acme", "data", 2)] == ("active", True)
    assert status[("acme", "token", 1)] == ("active", True)  # the token key never rotates
    assert key_status(db).rotations == {}
    fresh = Vault(db, KeyRing(db, master))
    assert all(fresh.restore("acme", t) == v for v, t in tokens.items())
    assert all(fresh.tokenize("acme", "PERSON", v) == t for v, t in tokens.items())  # same tokens
    fresh.tokenize("acme", "PERSON", "Somebody New")
    assert _versions(db) == {2: len(VALUES) + 1}


def test_a_crashed_rotation_resumes_where_it_stopped(db: Database, master: bytes) -> None:
    ring, tokens = _seeded(db, master)
    job = rotation.begin(ring, "acme")
    batches = 0

    def crash_after_two(n: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise Crash

    with pytest.raises(Crash):
        rotation.reencrypt(ring, job, [VAULT], batch=8, progress=crash_after_two, settle=0)
    assert _versions(db) == {1: len(VALUES) - 16, 2: 16}  # two committed batches, nothing half-done
    again = rotation.begin(KeyRing(db, master), "acme")
    assert (again.version, again.resumed) == (2, True)
    assert rotation.remaining(ring, again, [VAULT]) == len(VALUES) - 16
    result = rotation.reencrypt(KeyRing(db, master), again, [VAULT], batch=8, settle=0)
    assert result.finished and result.reencrypted == len(VALUES) - 16
    assert _versions(db) == {2: len(VALUES)}
    assert all(Vault(db, KeyRing(db, master)).restore("acme", t) == v for v, t in tokens.items())
    assert rotation.begin(KeyRing(db, master), "acme").version == 3  # finished: the next one is new


def test_a_damaged_record_is_left_and_the_rotation_stays_unfinished(db: Database, master: bytes) -> None:
    ring, tokens = _seeded(db, master)
    bad = tokens[VALUES[5]]
    with db.transaction(write=True) as tx:
        tx.execute("UPDATE vault SET ciphertext = ? WHERE token = ?", (b"\x00" * 40, bad))
    job = rotation.begin(ring, "acme")
    result = rotation.reencrypt(ring, job, [VAULT], batch=10, settle=0)
    assert (result.reencrypted, result.failed, result.finished) == (len(VALUES) - 1, 1, False)
    assert _versions(db) == {1: 1, 2: len(VALUES) - 1}
    assert key_status(db).rotations == {"acme": 2}
    status = {(k.contract, k.version): k.status for k in key_status(db).keys if k.purpose == "data"}
    assert status[("acme", 1)] == "active"  # still needed


def test_records_written_under_the_old_version_during_the_settle_time_are_caught(
    db: Database, master: bytes
) -> None:
    ring, _ = _seeded(db, master)
    gateway = Vault(db, KeyRing(db, master, current_ttl=3600))  # has v1 cached as current
    gateway.tokenize("acme", "PERSON", "cache warm-up")
    job = rotation.begin(ring, "acme")
    moment = job.started_at
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # while the CLI waits, a gateway still writes under v1
        nonlocal moment
        slept.append(seconds)
        gateway.tokenize("acme", "PERSON", "Written Late")
        moment += timedelta(seconds=seconds)

    result = rotation.reencrypt(ring, job, [VAULT], settle=7.0, now=lambda: moment, sleep=sleep)
    assert slept and 6.9 < slept[0] <= 7.0
    assert result.finished and _versions(db) == {2: len(VALUES) + 2}


@pytest.mark.parametrize(("contract", "error"), [("_audit", ValueError), ("never-used", KeyError_)])
def test_what_cannot_be_rotated(db: Database, master: bytes, contract: str, error: type[Exception]) -> None:
    _seeded(db, master)
    with pytest.raises(error):
        rotation.begin(KeyRing(db, master), contract)


def test_batch_size_must_be_positive(db: Database, master: bytes) -> None:
    ring, _ = _seeded(db, master)
    job = rotation.begin(ring, "acme")
    with pytest.raises(ValueError, match="batch"):
        rotation.reencrypt(ring, job, [VAULT], batch=0, settle=0)
    assert job.started_at <= datetime.now(UTC)
