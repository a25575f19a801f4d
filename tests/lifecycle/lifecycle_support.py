"""Helpers shared by the lifecycle tests (a module, not conftest, so every test file can import it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gateway.config import load_config
from gateway.credentials import Credentials
from gateway.keys.keyring import KeyRing
from gateway.keys.provider import init_key_file
from gateway.lifecycle.handover import generate_x25519
from gateway.lifecycle.rules import ContractPolicy
from gateway.policy.merge import PackRef
from gateway.runtime import Runtime, open_runtime
from gateway.store import Database, open_database
from gateway.store.migrations import migrate
from gateway.vault import Vault

GDPR = PackRef("gdpr", "1.0.0", "sha256:" + "ab" * 32)
HIPAA = PackRef("hipaa", "1.0.0", "sha256:" + "cd" * 32)


def policy(contract: str, vault: str | None = "P90D", audit: str | None = "P1Y") -> ContractPolicy:
    retention = {}
    if vault:
        retention["vault"] = (vault, "gdpr@1.0.0")
    if audit:
        retention["audit"] = (audit, "hipaa@1.0.0")
    return ContractPolicy(contract, f"{contract.title()} Vendor", (GDPR, HIPAA), retention)


POLICIES = {"acme": policy("acme"), "globex": policy("globex")}


class Clock:
    """A clock that starts now and moves one second per read (``advance`` jumps)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


@dataclass
class Seeded:
    """Two contracts with tokens and API keys: acme is the one terminated, globex must stay untouched."""

    tokens: dict[str, dict[str, str]] = field(default_factory=dict)  # contract -> value -> token
    keys: dict[str, str] = field(default_factory=dict)  # contract -> API key


def seed(db: Database, keyring: KeyRing, n: int = 12) -> Seeded:
    vault, creds = Vault(db, keyring), Credentials(db, keyring)
    out = Seeded()
    for contract in ("acme", "globex"):
        values = [f"{contract.title()} Customer {i}" for i in range(n)]
        out.tokens[contract] = {v: vault.tokenize(contract, "PERSON", v) for v in values}
        email = f"canary.{contract}@example.net"
        out.tokens[contract][email] = vault.tokenize(contract, "EMAIL_ADDRESS", email)
        out.keys[contract] = creds.issue(contract)[1]
    return out


def rows(db: Database, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with db.transaction() as tx:
        return tx.fetchall(sql, params)


def count(db: Database, table: str, contract: str) -> int:
    return int(rows(db, f"SELECT COUNT(*) FROM {table} WHERE contract = ?", (contract,))[0][0])


def audit_actions(db: Database) -> list[str]:
    return [json.loads(b)["action"] for (b,) in rows(db, "SELECT body FROM audit_records ORDER BY seq")]


def audit_bodies(db: Database, action: str) -> list[dict[str, Any]]:
    return [b for b in (json.loads(r[0]) for r in rows(db, "SELECT body FROM audit_records ORDER BY seq"))
            if b["action"] == action]


def restores_all(db: Database, keyring: KeyRing, contract: str, tokens: dict[str, str]) -> bool:
    vault = Vault(db, keyring)
    return all(vault.restore(contract, t) == v for v, t in tokens.items())


class ConfiguredStore:
    """A config (two contracts), a master key, a company key pair and a seeded SQLite store in a folder."""

    def __init__(self, directory: Path) -> None:
        from harness import gateway_config

        self.dir = directory
        self.config = directory / "aduana.yaml"
        data = gateway_config("http://127.0.0.1:9")
        data["store"] = {"url": "sqlite:///aduana.db"}
        data["keys"] = {"master_key": "file:master.key"}
        data["logging"] = {"level": "warning"}
        self.config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        init_key_file(directory / "master.key")
        db = open_database(f"sqlite:///{directory / 'aduana.db'}")
        migrate(db)
        db.close()
        private, public = generate_x25519()
        (directory / "company.pem").write_bytes(private)
        (directory / "company.pub").write_bytes(public)
        with self.runtime() as rt:
            self.seeded = seed(rt.db, rt.keyring, n=12)
            with rt.db.transaction() as tx:  # what must not survive anywhere on disk after termination
                self.secrets = [bytes(r[0]) for r in tx.fetchall(
                    "SELECT ciphertext FROM vault WHERE contract = 'acme' UNION ALL"
                    " SELECT wrapped FROM data_keys WHERE contract = 'acme'")]

    @contextmanager
    def runtime(self) -> Iterator[Runtime]:
        rt = open_runtime(load_config(self.config))
        try:
            yield rt
        finally:
            rt.close()
