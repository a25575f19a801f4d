"""Keys, the vault and credentials on a real SQLite file with real cryptography."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from gateway.credentials import Credentials
from gateway.errors import IntegrityError, KeyError_
from gateway.keys.crypto import canonical, open_sealed, seal
from gateway.keys.keyring import KeyRing
from gateway.store import Database, open_database
from gateway.store.migrations import migrate
from gateway.vault import TOKEN_RE, Vault, normalize


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def master() -> bytes:
    return os.urandom(32)


def test_canonical_encoding_is_unambiguous() -> None:
    assert canonical("x", "ab", "c") != canonical("x", "a", "bc")
    assert canonical("x", "a") == bytes.fromhex("00000001" "78" "00000001" "61")


def test_sealed_data_is_bound_to_its_associated_data() -> None:
    key = os.urandom(32)
    blob = seal(key, b"secret", b"contract-a|row-1")
    assert open_sealed(key, blob, b"contract-a|row-1") == b"secret"
    with pytest.raises(IntegrityError):
        open_sealed(key, blob, b"contract-a|row-2")
    with pytest.raises(IntegrityError):
        open_sealed(key, blob[:-1] + bytes([blob[-1] ^ 1]), b"contract-a|row-1")


def test_tokens_are_deterministic_per_contract_and_restorable(db: Database, master: bytes) -> None:
    vault = Vault(db, KeyRing(db, master))
    t1 = vault.tokenize("acme", "PERSON", "Lucía Fernández")
    assert TOKEN_RE.fullmatch(t1) and t1.startswith("⟦PERSON_")
    assert vault.tokenize("acme", "PERSON", "Lucía Fernández") == t1
    assert vault.tokenize("acme", "PERSON", "  Lucía   Fernández ") == t1
    assert vault.tokenize("globex", "PERSON", "Lucía Fernández") != t1
    assert vault.restore("acme", t1) == "Lucía Fernández"
    assert vault.restore("globex", t1) is None


@pytest.mark.parametrize(
    ("entity", "a", "b"),
    [("ES_NIF", "12.345.678-Z", "12345678z"), ("EMAIL_ADDRESS", "Ana@Example.ES", "ana@example.es"),
     ("CREDIT_CARD", "4111 1111 1111 1111", "4111-1111-1111-1111"), ("IBAN_CODE", "ES91 2100 0418", "es9121000418")],
)
def test_spellings_of_one_value_share_a_token(entity: str, a: str, b: str) -> None:
    assert normalize(entity, a) == normalize(entity, b)


def test_no_plaintext_or_value_lookup_in_the_store(db: Database, master: bytes, tmp_path: Path) -> None:
    vault = Vault(db, KeyRing(db, master))
    vault.tokenize("acme", "EMAIL_ADDRESS", "canary.person@example.org")
    db.compact()
    for path in db.files():
        assert b"canary.person" not in Path(path).read_bytes()


def test_moved_ciphertext_fails_closed(db: Database, master: bytes) -> None:
    vault = Vault(db, KeyRing(db, master))
    t1 = vault.tokenize("acme", "PERSON", "Ana")
    t2 = vault.tokenize("acme", "PERSON", "Bea")
    with db.transaction(write=True) as tx:
        (ct,) = tx.fetchone("SELECT ciphertext FROM vault WHERE token = ?", (t1,))
        tx.execute("UPDATE vault SET ciphertext = ? WHERE token = ?", (ct, t2))
    with pytest.raises(IntegrityError):
        vault.restore("acme", t2)


def test_concurrent_tokenization_gives_one_token(db: Database, master: bytes) -> None:
    vaults = [Vault(db, KeyRing(db, master)) for _ in range(6)]
    tokens: list[str] = []
    barrier = threading.Barrier(len(vaults))

    def work(v: Vault) -> None:
        barrier.wait()
        tokens.append(v.tokenize("acme", "PERSON", "Concurrent Person"))

    threads = [threading.Thread(target=work, args=(v,)) for v in vaults]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert vaults[0].count("acme") == 1


def test_wrong_master_key_is_refused(db: Database, master: bytes) -> None:
    KeyRing(db, master).current("acme")
    with pytest.raises(KeyError_, match="not the one this store's keys are wrapped with"):
        KeyRing(db, os.urandom(32)).check()
    assert KeyRing(db, master).check() == 1


def test_credentials_are_stored_hashed_and_revocable(db: Database, master: bytes) -> None:
    creds = Credentials(db, master)
    key_id, key = creds.issue("acme")
    assert key.startswith(f"adu_{key_id}_")
    found = creds.verify(key)
    assert found is not None and found.contract == "acme"
    assert creds.verify(key + "x") is None
    assert creds.verify(key.replace(key_id, "k_000000000000")) is None
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT * FROM credentials")
    assert key.split("_", 3)[3].encode() not in repr(rows).encode()
    creds.revoke(key_id)
    assert creds.verify(key) is None
