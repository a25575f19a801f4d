"""The token vault: reversible, deterministic tokens per contract.

Rules this module keeps:
1. A token is ``⟦TYPE_hex⟧``: the type and a truncated HMAC of the normalized value under the contract's
   token key. The same value in the same contract always gives the same token; nothing about the value
   can be learned from it without the key.
2. The value is stored only encrypted (AES-256-GCM under the contract's current data key), its associated
   data binding contract, table, token and key version. Lookups use a blind index (a second HMAC),
   never the value.
3. Restoring only ever looks in the caller's contract: another contract's token is unknown here.
4. Two processes tokenizing the same new value concurrently store exactly one row and return the same
   token (the blind index is unique per contract; the loser reads the winner's row).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from gateway.keys.crypto import canonical, mac, open_sealed, seal
from gateway.keys.keyring import KeyRing
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


def _record_ad(contract: str, token: str, key_version: int) -> bytes:
    return canonical("aduana-vault-v1", contract, "vault", token, key_version)


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
        version, data_key = self._keys.current(contract)
        for length in (TOKEN_HEX, *_LONGER):
            token = f"⟦{entity_type}_{token_mac.hex()[:length]}⟧"
            ciphertext = seal(data_key, value.encode("utf-8"), _record_ad(contract, token, version))
            with self._db.transaction(write=True) as tx:
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
        version = int(row[0])
        key = self._keys.version(contract, version)
        return open_sealed(key, row[1], _record_ad(contract, token, version)).decode("utf-8")

    def keyed_hash(self, contract: str, entity_type: str, value: str) -> str:
        """A one-way keyed hash of ``value`` (the ``hash`` action): stable per contract, not reversible."""
        key = self._keys.token_key(contract)
        digest = mac(key, "aduana-hash-v1", contract, entity_type, normalize(entity_type, value))
        return f"⟨{entity_type}#{digest.hex()[:16]}⟩"

    def count(self, contract: str) -> int:
        with self._db.transaction() as tx:
            row = tx.fetchone("SELECT COUNT(*) FROM vault WHERE contract = ?", (contract,))
        return int(row[0]) if row else 0
