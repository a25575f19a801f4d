"""The key ring on both stores: create and unwrap, wrong master, version TTL, master rotation under a
running gateway, readiness."""

from __future__ import annotations

import multiprocessing
import os

import pytest
from backends import create_keys_in_process

from gateway.credentials import Credentials
from gateway.errors import KeyError_
from gateway.keys.crypto import key_fingerprint
from gateway.keys.keyring import DATA, TOKEN, KeyRing
from gateway.keys.rotation import begin
from gateway.store import Database
from gateway.vault import Vault


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rows(db: Database) -> list[tuple[object, ...]]:
    with db.transaction() as tx:
        return tx.fetchall("SELECT key_id, contract, purpose, version, wrapped, master_key_id FROM data_keys"
                           " ORDER BY key_id")


def test_keys_are_created_once_stored_wrapped_and_unwrap_again(db: Database, master: bytes) -> None:
    ring = KeyRing(db, master)
    version, key = ring.current("acme")
    token_key = ring.token_key("acme")
    assert version == 1 and len(key) == 32 and key != token_key
    rows = _rows(db)
    assert {(r[1], r[2], r[3]) for r in rows} == {("acme", DATA, 1), ("acme", TOKEN, 1)}
    assert all(r[5] == key_fingerprint(master) for r in rows)
    assert all(key not in bytes(r[4]) and token_key not in bytes(r[4]) for r in rows)  # type: ignore[arg-type]
    other = KeyRing(db, master)
    assert other.check() == 2
    assert other.current("acme") == (1, key) and other.token_key("acme") == token_key


def test_a_wrong_master_is_refused_and_writes_nothing(db: Database, master: bytes) -> None:
    KeyRing(db, master).current("acme")
    before = _rows(db)
    wrong = KeyRing(db, os.urandom(32))
    with pytest.raises(KeyError_, match="not the one this store's keys are wrapped with"):
        wrong.check()
    with pytest.raises(KeyError_):
        wrong.current("newco")  # would wrap a new key with the wrong master
    assert _rows(db) == before


def test_a_tampered_wrapped_key_stops_the_check(db: Database, master: bytes) -> None:
    KeyRing(db, master).current("acme")
    with db.transaction(write=True) as tx:
        (wrapped,) = tx.fetchone("SELECT wrapped FROM data_keys WHERE purpose = 'data'") or (b"",)
        flipped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
        tx.execute("UPDATE data_keys SET wrapped = ? WHERE purpose = 'data'", (flipped,))
    with pytest.raises(KeyError_, match="cannot be unwrapped"):
        KeyRing(db, master).check()


def test_keys_made_concurrently_by_processes_are_one_key(store_url: str, db: Database, master: bytes) -> None:
    KeyRing(db, master).current("warm")  # the store's master is recorded before the race
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    contracts = [f"c{i}" for i in range(6)]
    procs = [ctx.Process(target=create_keys_in_process, args=(store_url, master, contracts, out)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert results[0] == results[1] == results[2]


def test_a_new_data_key_version_reaches_a_running_ring_within_the_ttl(db: Database, master: bytes) -> None:
    clock = FakeClock()
    gateway = KeyRing(db, master, clock=clock, current_ttl=5.0)
    assert gateway.current("acme")[0] == 1
    begin(KeyRing(db, master), "acme")  # `aduana keys rotate acme`, another process
    clock.now += 4.9
    assert gateway.current("acme")[0] == 1  # still cached
    clock.now += 0.2
    assert gateway.current("acme")[0] == 2
    assert gateway.token_key("acme") == KeyRing(db, master).token_key("acme")  # tokens never rotate


def _seed(db: Database, master: bytes) -> tuple[Vault, dict[str, str]]:
    vault = Vault(db, KeyRing(db, master))
    tokens = {v: vault.tokenize("acme", "PERSON", v) for v in ("Ana", "Bea", "Carmen")}
    vault.tokenize("globex", "PERSON", "Dora")
    return vault, tokens


def test_rotate_master_rewraps_every_key_and_changes_no_value(db: Database, master: bytes) -> None:
    _, tokens = _seed(db, master)
    old_keys = {(c, p, v): KeyRing(db, master).version(c, v, p) for _, c, p, v, _, _ in _rows(db)}  # type: ignore[misc]
    old_wrapped = {r[0]: r[4] for r in _rows(db)}
    new_master = os.urandom(32)
    admin = KeyRing(db, master)
    assert admin.rotate_master(new_master) == len(old_keys)
    assert admin.master_key_id == key_fingerprint(new_master)
    rows = _rows(db)
    assert all(r[5] == key_fingerprint(new_master) and r[4] != old_wrapped[r[0]] for r in rows)
    fresh = KeyRing(db, new_master)
    assert fresh.check() == len(old_keys)
    assert {(c, p, v): fresh.version(c, v, p) for _, c, p, v, _, _ in rows} == old_keys  # type: ignore[misc]
    assert all(Vault(db, fresh).restore("acme", t) == v for v, t in tokens.items())
    with pytest.raises(KeyError_, match="not the one"):
        KeyRing(db, master).check()
    with pytest.raises(KeyError_, match="is the current one"):
        fresh.rotate_master(new_master)


def test_a_running_gateway_keeps_serving_but_cannot_wrap_new_keys_with_the_old_master(
    db: Database, master: bytes
) -> None:
    _, tokens = _seed(db, master)
    provider = {"key": master}  # what the gateway's key provider returns (its key file)
    gateway = KeyRing(db, master, source=lambda: provider["key"])
    gateway.check()  # start-up: every key unwrapped and cached
    vault = Vault(db, gateway)
    new_master = os.urandom(32)
    KeyRing(db, master).rotate_master(new_master)  # `aduana keys rotate-master`, another process

    # known contracts keep working, reads and writes
    assert all(vault.restore("acme", t) == v for v, t in tokens.items())
    assert vault.tokenize("acme", "PERSON", "Elena").startswith("⟦PERSON_")
    assert gateway.probe() and gateway.stale  # ready (it serves), but marked stale

    # a contract it has never seen needs a new key: refused, and nothing is written
    before = _rows(db)
    with pytest.raises(KeyError_, match="now wrapped by master key"):
        vault.tokenize("initech", "PERSON", "Fran")
    assert _rows(db) == before

    # once its provider yields the new master (the key file was replaced), it picks it up
    provider["key"] = new_master
    assert vault.tokenize("initech", "PERSON", "Fran").startswith("⟦PERSON_")
    assert gateway.master_key_id == key_fingerprint(new_master) and not gateway.stale
    assert {r[5] for r in _rows(db)} == {key_fingerprint(new_master)}
    assert KeyRing(db, new_master).check() == len(before) + 2


def test_readiness_probe(db: Database, master: bytes) -> None:
    assert KeyRing(db, master).probe()  # an empty store
    KeyRing(db, master).current("acme")
    assert KeyRing(db, master).probe()
    assert not KeyRing(db, os.urandom(32)).probe()  # never served anything with that key


def test_credentials_survive_a_master_rotation(db: Database, master: bytes) -> None:
    key_id, key = Credentials(db, master).issue("acme")
    new_master = os.urandom(32)
    ring = KeyRing(db, master)
    ring.rotate_master(new_master)
    found = Credentials(db, KeyRing(db, new_master)).verify(key)
    assert found is not None and found.key_id == key_id


def test_credentials_issued_before_the_key_ring_held_their_key_stay_valid(db: Database, master: bytes) -> None:
    from gateway.keys.crypto import derive, mac

    # what older versions stored: HMAC under a key derived from the master, and no `_credentials` key
    legacy = mac(derive(master, "credentials"), "aduana-credential-v1", "s3cret-s3cret")
    with db.transaction(write=True) as tx:
        tx.execute("INSERT INTO credentials (key_id, contract, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                   ("k_0123456789ab", "acme", legacy, "2025-01-01T00:00:00+00:00"))
    creds = Credentials(db, KeyRing(db, master))
    assert creds.ensure_key() == "1"
    assert creds.verify("adu_k_0123456789ab_s3cret-s3cret") is not None
