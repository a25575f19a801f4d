"""The vault on both stores: deterministic tokens, restore, isolation, tampering, concurrency."""

from __future__ import annotations

import multiprocessing
import threading

import pytest
from backends import tokenize_in_process

from gateway.errors import IntegrityError
from gateway.keys.keyring import KeyRing
from gateway.store import Database
from gateway.vault import TOKEN_RE, VAULT, Vault


@pytest.fixture
def vault(db: Database, master: bytes) -> Vault:
    return Vault(db, KeyRing(db, master))


@pytest.mark.parametrize(("entity", "value", "same"), [
    ("PERSON", "Lucía Fernández", "  Lucía   Fernández "),
    ("EMAIL_ADDRESS", "Ana@Example.ES", "ana@example.es"),
    ("ES_NIF", "12.345.678-Z", "12345678z"),
    ("PHONE_NUMBER", "+34 600 11 22 33", "+34-600-112-233"),
])
def test_tokenize_is_deterministic_and_restores_the_first_spelling(
    vault: Vault, entity: str, value: str, same: str
) -> None:
    token = vault.tokenize("acme", entity, value)
    assert TOKEN_RE.fullmatch(token) and token.startswith(f"⟦{entity}_")
    assert vault.tokenize("acme", entity, same) == token
    assert vault.restore("acme", token) == value
    assert vault.count("acme") == 1


def test_contracts_are_isolated(vault: Vault) -> None:
    a = vault.tokenize("acme", "PERSON", "Ana Pérez")
    b = vault.tokenize("globex", "PERSON", "Ana Pérez")
    assert a != b
    assert vault.restore("acme", b) is None and vault.restore("globex", a) is None
    assert vault.restore("acme", "⟦PERSON_000000000000⟧") is None


def test_no_plaintext_and_no_value_index_in_the_rows(db: Database, vault: Vault) -> None:
    vault.tokenize("acme", "EMAIL_ADDRESS", "zz.canary.rows@example.org")
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT * FROM vault")
    flat = b"".join(v if isinstance(v, bytes) else str(v).encode() for row in rows for v in row)
    assert b"zz.canary.rows" not in flat and b"example.org" not in flat


@pytest.mark.parametrize("tamper", ["flip a ciphertext bit", "swap ciphertexts", "move to another contract",
                                    "change the key version", "truncate"])
def test_tampered_records_fail_closed(db: Database, vault: Vault, tamper: str) -> None:
    t1 = vault.tokenize("acme", "PERSON", "Ana")
    t2 = vault.tokenize("acme", "PERSON", "Bea")
    target = t2
    with db.transaction(write=True) as tx:
        (ct1,) = tx.fetchone("SELECT ciphertext FROM vault WHERE token = ?", (t1,)) or (b"",)
        (ct2,) = tx.fetchone("SELECT ciphertext FROM vault WHERE token = ?", (t2,)) or (b"",)
        if tamper == "flip a ciphertext bit":
            tx.execute("UPDATE vault SET ciphertext = ? WHERE token = ?", (ct2[:-1] + bytes([ct2[-1] ^ 1]), t2))
        elif tamper == "swap ciphertexts":
            tx.execute("UPDATE vault SET ciphertext = ? WHERE token = ?", (ct1, t2))
        elif tamper == "move to another contract":
            tx.execute("UPDATE vault SET contract = 'globex' WHERE token = ?", (t2,))
        elif tamper == "change the key version":
            tx.execute("UPDATE vault SET key_version = 2 WHERE token = ?", (t2,))
        else:
            tx.execute("UPDATE vault SET ciphertext = ? WHERE token = ?", (ct2[:10], t2))
    contract = "globex" if tamper == "move to another contract" else "acme"
    if tamper == "move to another contract":
        vault.tokenize("globex", "PERSON", "someone else")  # globex has keys of its own
    with pytest.raises(IntegrityError) as caught:
        vault.restore(contract, target)
    assert caught.value.reason == "record_integrity" and caught.value.status == 500
    assert vault.restore("acme", t1) == "Ana"  # the other records are unaffected


def test_concurrent_tokenization_in_threads_gives_one_token(db: Database, master: bytes) -> None:
    vaults = [Vault(db, KeyRing(db, master)) for _ in range(8)]
    tokens: list[str] = []
    barrier = threading.Barrier(len(vaults))

    def work(v: Vault) -> None:
        barrier.wait()
        for i in range(20):
            tokens.append(v.tokenize("acme", "PERSON", f"Concurrent Person {i}"))

    threads = [threading.Thread(target=work, args=(v,)) for v in vaults]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 20
    assert vaults[0].count("acme") == 20


def test_concurrent_tokenization_in_processes_gives_one_token(store_url: str, db: Database, master: bytes) -> None:
    Vault(db, KeyRing(db, master)).tokenize("acme", "PERSON", "warm-up")  # keys exist before the race
    values = [f"Shared Person {i}" for i in range(25)]
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=tokenize_in_process, args=(store_url, master, values, out)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [dict(out.get(timeout=120)) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    for value in values:
        assert len({r[value] for r in results}) == 1, value
    vault = Vault(db, KeyRing(db, master))
    assert vault.count("acme") == len(values) + 1
    assert all(vault.restore("acme", results[0][v]) == v for v in values)


def test_keys_for_a_new_contract_are_created_once_under_a_race(db: Database, master: bytes) -> None:
    rings = [KeyRing(db, master) for _ in range(6)]
    keys: list[bytes] = []
    barrier = threading.Barrier(len(rings))

    def work(ring: KeyRing) -> None:
        barrier.wait()
        keys.append(ring.current("newco")[1])

    threads = [threading.Thread(target=work, args=(r,)) for r in rings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1
    with db.transaction() as tx:
        assert tx.fetchone("SELECT COUNT(*) FROM data_keys WHERE contract = 'newco'") == (1,)


def test_count_by_version_and_sealed_table(db: Database, vault: Vault) -> None:
    for name in ("A", "B", "C"):
        vault.tokenize("acme", "PERSON", name)
    vault.tokenize("globex", "PERSON", "A")
    assert vault.count_by_version() == {("acme", 1): 3, ("globex", 1): 1}
    assert VAULT.associated_data("acme", "t", 1) != VAULT.associated_data("acme", "t", 2)
