"""The token vault: reversible, deterministic tokens per contract.

Rules this module keeps:
1. A token is ``⟦TYPE_hex⟧``: the type and a truncated HMAC of the normalized value under the contract's
   token key. The same value in the same contract always gives the same token; nothing about the value
   can be learned from it without the key.
2. The value is stored only encrypted (AES-256-GCM under the contract's current data key), its associated
   data binding contract, table, token and key version (:data:`VAULT`). Lookups use a blind index (a
   second HMAC), never the value.
3. Restoring only ever looks in the caller's contract: another contract's token is unknown here.
4. Two processes tokenizing the same new value concurrently store exactly one row and return the same
   token (the blind index is unique per contract; the loser reads the winner's row).
5. An insert commits without waiting for the disk (``durable=False``): the request's audit record, always
   durable, is committed after it and before the token is released, and makes it durable too.
   That keeps an insert well under a millisecond on SQLite.
6. A stored record that fails authentication raises :class:`gateway.errors.IntegrityError` (reason
   ``record_integrity``): the request fails closed and is audited; nothing else is affected.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from gateway.keys.crypto import mac
from gateway.keys.keyring import KeyRing, SealedTable
from gateway.store.base import Database

#: Length of the hex part of a token. 12 hex digits = 48 bits: collisions inside one contract are
#: negligible below tens of millions of values and are detected anyway (a longer token is used).
TOKEN_HEX = 12
_LONGER = (20, 32)
TOKEN_RE = re.compile(r"⟦([A-Z][A-Z0-9_]{0,40})_([0-9a-f]{12,32})⟧")

_SEPARATORS = re.compile(r"[\s\-.·/()]+")
_ID_TYPES_PREFIXES = ("ES_", "US_", "IBAN", "CREDIT_CARD", "PHONE", "FAX", "CARD_", "PASSPORT", "VEHICLE",
                      "DEVICE", "ACCOUNT", "MEDICAL", "HEALTH", "LICENSE")


def normalize(entity_type: str, value: str) -> str:
    """The form two spellings of one value share, so they get one token (``12.345.678-Z`` = ``12345678z``)."""
    text = unicodedata.normalize("NFKC", value).strip()
    if entity_type == "EMAIL_ADDRESS":
        return text.casefold()
    if entity_type.startswith(_ID_TYPES_PREFIXES):
        return _SEPARATORS.sub("", text).upper()
    return " ".join(text.split())


#: The vault as a table of sealed records: what ``aduana keys rotate`` re-encrypts.
VAULT = SealedTable(name="vault", label="aduana-vault-v1", id_column="token")


class Vault:
    """Tokenize and restore values of one store, per contract."""

    def __init__(self, db: Database, keyring: KeyRing) -> None:
        self._db = db
        self._keys = keyring

    def _index(self, contract: str, entity_type: str, value: str) -> tuple[bytes, bytes]:
        key = self._keys.token_key(contract)
        norm = normalize(entity_type, value)
        token_mac = mac(key, "aduana-token-v1", contract, entity_type, norm)
        blind = mac(key, "aduana-index-v1", contract, entity_type, norm)
        return token_mac, blind

    def tokenize(self, contract: str, entity_type: str, value: str) -> str:
        """Return the contract's token for ``value``, storing the value (encrypted) the first time."""
        token_mac, blind = self._index(contract, entity_type, value)
        with self._db.transaction() as tx:
            row = tx.fetchone("SELECT token FROM vault WHERE contract = ? AND blind_index = ?", (contract, blind))
        if row is not None:
            return str(row[0])
        plaintext = value.encode("utf-8")
        for length in (TOKEN_HEX, *_LONGER):
            token = f"⟦{entity_type}_{token_mac.hex()[:length]}⟧"
            version, ciphertext = self._keys.seal_record(VAULT, contract, token, plaintext)
            with self._db.transaction(write=True, durable=False) as tx:
                inserted = tx.execute(
                    "INSERT INTO vault (contract, token, entity_type, blind_index, key_version, ciphertext,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (contract, token, entity_type, blind, version, ciphertext, datetime.now(UTC).isoformat()),
                )
                if inserted:
                    return token
                row = tx.fetchone(
                    "SELECT token FROM vault WHERE contract = ? AND blind_index = ?", (contract, blind)
                )
            if row is not None:  # another writer stored this same value first
                return str(row[0])
            # else: the short token belongs to a different value (a collision): try a longer one
        raise RuntimeError("token collision could not be resolved")  # 2^-128: unreachable in practice

    def restore(self, contract: str, token: str) -> str | None:
        """The value behind ``token`` in ``contract``, or ``None`` if this contract has no such token.

        Raises :class:`gateway.errors.IntegrityError` when the stored ciphertext fails authentication.
        """
        with self._db.transaction() as tx:
            row = tx.fetchone(
                "SELECT key_version, ciphertext FROM vault WHERE contract = ? AND token = ?", (contract, token)
            )
        if row is None:
            return None
        plaintext = self._keys.open_record(VAULT, contract, token, int(row[0]), bytes(row[1]))
        return plaintext.decode("utf-8")

    def keyed_hash(self, contract: str, entity_type: str, value: str) -> str:
        """A one-way keyed hash of ``value`` (the ``hash`` action): stable per contract, not reversible."""
        key = self._keys.token_key(contract)
        digest = mac(key, "aduana-hash-v1", contract, entity_type, normalize(entity_type, value))
        return f"⟨{entity_type}#{digest.hex()[:16]}⟩"

    def count(self, contract: str) -> int:
        with self._db.transaction() as tx:
            row = tx.fetchone("SELECT COUNT(*) FROM vault WHERE contract = ?", (contract,))
        return int(row[0]) if row else 0

    def count_by_version(self) -> dict[tuple[str, int], int]:
        """How many records each (contract, data key version) protects, for ``aduana keys status``."""
        with self._db.transaction() as tx:
            rows = tx.fetchall("SELECT contract, key_version, COUNT(*) FROM vault GROUP BY contract, key_version")
        return {(str(c), int(v)): int(n) for c, v, n in rows}
