"""``aduana keys`` and ``aduana store`` against a real config, on both stores; start-up refusals."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.config import load_config
from gateway.credentials import Credentials
from gateway.keys import rotation
from gateway.runtime import open_runtime
from gateway.store import open_database
from gateway.store.migrations import MIGRATIONS
from gateway.vault import Vault
from harness import gateway_config


class Setup:
    def __init__(self, directory: Path, store_url: str) -> None:
        self.dir = directory
        self.config = directory / "aduana.yaml"
        data = gateway_config("http://127.0.0.1:9")
        data["store"] = {"url": store_url if store_url.startswith("postgresql") else "sqlite:///aduana.db"}
        data["keys"] = {"master_key": "file:master.key"}
        data["logging"] = {"level": "warning"}
        self.config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        self.runner = CliRunner()

    def run(self, *args: str) -> Result:
        return self.runner.invoke(main, [*args, "--config", str(self.config)], catch_exceptions=False)

    def seed(self, values: list[str]) -> tuple[dict[str, str], str]:
        rt = open_runtime(load_config(self.config))
        try:
            vault = Vault(rt.db, rt.keyring)
            tokens = {v: vault.tokenize("acme", "PERSON", v) for v in values}
            _, api_key = Credentials(rt.db, rt.keyring).issue("acme")
        finally:
            rt.close()
        return tokens, api_key

    def restore_all(self, tokens: dict[str, str]) -> bool:
        rt = open_runtime(load_config(self.config))
        try:
            vault = Vault(rt.db, rt.keyring)
            return all(vault.restore("acme", t) == v for v, t in tokens.items())
        finally:
            rt.close()

    def audit_actions(self) -> list[dict[str, Any]]:
        rt = open_runtime(load_config(self.config))
        try:
            with rt.db.transaction() as tx:
                return [json.loads(b) for (b,) in tx.fetchall("SELECT body FROM audit_records ORDER BY seq")]
        finally:
            rt.close()


@pytest.fixture
def setup(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.setattr(rotation, "SETTLE_SECONDS", 0.0)
    s = Setup(tmp_path, store_url)
    assert s.run("keys", "init").exit_code == 0
    result = s.run("store", "migrate")
    assert result.exit_code == 0 and "applied migration 3" in result.output
    return s


def test_keys_init_makes_a_private_key_and_never_overwrites(setup: Setup) -> None:
    key = setup.dir / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    result = setup.run("keys", "init")
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    assert key.read_bytes() == before


def test_store_migrate_again_and_status(setup: Setup) -> None:
    assert "nothing to apply" in setup.run("store", "migrate").output
    status = setup.run("store", "status")
    assert status.exit_code == 0 and status.output.count("applied") == len(MIGRATIONS)


def test_status_rotate_and_status_again(setup: Setup) -> None:
    tokens, _ = setup.seed([f"Value {i}" for i in range(12)])
    before = json.loads(setup.run("keys", "status", "--json").output)
    data = {(k["contract"], k["purpose"], k["version"]): k for k in before["keys"]}
    assert data[("acme", "data", 1)]["records"] == 12 and data[("acme", "data", 1)]["state"] == "current"
    assert data[("acme", "token", 1)]["records"] == 12
    assert data[("_credentials", "hmac", 1)]["records"] == 1
    assert all(k["master_key_id"] == before["master_key_id"] for k in before["keys"])

    result = setup.run("keys", "rotate", "acme", "--batch-size", "5")
    assert result.exit_code == 0, result.output
    assert "rotated acme: 12 records re-encrypted to v2" in result.output
    after = json.loads(setup.run("keys", "status", "--json").output)
    data = {(k["contract"], k["purpose"], k["version"]): k for k in after["keys"]}
    assert (data[("acme", "data", 1)]["state"], data[("acme", "data", 1)]["records"]) == ("retired", 0)
    assert (data[("acme", "data", 2)]["state"], data[("acme", "data", 2)]["records"]) == ("current", 12)
    assert after["unfinished_rotations"] == {}
    assert setup.restore_all(tokens)
    table = setup.run("keys", "status").output
    assert "retired" in table and "current" in table and "master key id" in table
    rotate = [r for r in setup.audit_actions() if r["action"] == "keys.rotate"]
    assert rotate and rotate[-1]["kind"] == "admin" and rotate[-1]["details"]["reencrypted"] == 12


def test_rotate_refuses_unknown_contracts(setup: Setup) -> None:
    result = setup.run("keys", "rotate", "nobody-knows")
    assert result.exit_code == 2 and "no contract" in result.output


def test_rotate_master_then_the_old_key_is_refused_and_the_new_one_works(setup: Setup) -> None:
    tokens, api_key = setup.seed(["Ana Pérez", "Bea Ruiz"])
    assert setup.run("keys", "init", "--out", str(setup.dir / "new.key")).exit_code == 0
    result = setup.run("keys", "rotate-master", "--new-source", f"file:{setup.dir / 'new.key'}")
    assert result.exit_code == 0, result.output
    assert "re-wrapped" in result.output and "keys.master_key: file:" in result.output

    refused = setup.run("serve", "--check-only")
    assert refused.exit_code == 1 and "not the one this store's keys are wrapped with" in refused.output

    (setup.dir / "master.key").rename(setup.dir / "old.key")
    (setup.dir / "new.key").rename(setup.dir / "master.key")
    ok = setup.run("serve", "--check-only")
    assert ok.exit_code == 0, ok.output
    assert setup.restore_all(tokens)
    rt = open_runtime(load_config(setup.config))
    try:
        assert Credentials(rt.db, rt.keyring).verify(api_key) is not None
    finally:
        rt.close()
    actions = [r for r in setup.audit_actions() if r["action"] == "keys.rotate-master"]
    assert actions and actions[0]["details"]["keys"] >= 3


def test_rotate_master_from_the_environment(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    setup.seed(["Ana"])
    bad = setup.run("keys", "rotate-master", "--new-source", "vault:nope")
    assert bad.exit_code == 2 and "no key provider" in bad.output
    unset = setup.run("keys", "rotate-master", "--new-source", "env:ADUANA_TEST_NEW_MASTER")
    assert unset.exit_code == 1 and "is not set" in unset.output
    monkeypatch.setenv("ADUANA_TEST_NEW_MASTER", base64.b64encode(os.urandom(32)).decode())
    result = setup.run("keys", "rotate-master", "--new-source", "env:ADUANA_TEST_NEW_MASTER")
    assert result.exit_code == 0 and "keys.master_key: env:ADUANA_TEST_NEW_MASTER" in result.output
    assert setup.run("serve", "--check-only").exit_code == 1  # still configured with the old key file


def _fingerprint(setup: Setup) -> dict[str, str]:
    """Every file of the gateway's directory and every row of its store, digested ('touches nothing')."""
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(setup.dir.iterdir()) if p.is_file()}
    db = open_database(load_config(setup.config).store_url)
    try:
        with db.transaction() as tx:
            for table in ("schema_migrations", "store_meta", "data_keys", "credentials", "vault", "audit_head",
                          "audit_records"):
                rows = sorted(repr(r) for r in tx.fetchall(f"SELECT * FROM {table}"))
                files[f"table:{table}"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    finally:
        db.close()
    return files


@pytest.mark.parametrize(("what", "breakage", "message"), [
    ("missing key file", "delete", "does not exist: create it with `aduana keys init`"),
    ("wrong key", "replace", "is not the one this store's keys are wrapped with"),
    ("key readable by others", "chmod", "readable by others: chmod 600"),
    ("not base64", "garbage", "not valid base64"),
])
def test_start_up_refuses_a_missing_or_wrong_key_and_touches_nothing(
    setup: Setup, what: str, breakage: str, message: str
) -> None:
    tokens, _ = setup.seed(["Carmen Díaz"])
    key = setup.dir / "master.key"
    if breakage == "delete":
        key.unlink()
    elif breakage == "replace":
        key.unlink()
        assert setup.run("keys", "init").exit_code == 0
    elif breakage == "chmod":
        key.chmod(0o644)
    else:
        key.write_text("not a key\n")
    before = _fingerprint(setup)
    result = setup.run("serve", "--check-only")
    assert result.exit_code == 1 and message in result.output, result.output
    assert _fingerprint(setup) == before
    key.unlink(missing_ok=True)  # the test's own reads above must not have hidden a write: check again
    assert setup.run("serve", "--check-only").exit_code == 1
    assert {k: v for k, v in _fingerprint(setup).items() if k != "master.key"} == {
        k: v for k, v in before.items() if k != "master.key"}
    assert tokens


def test_start_up_refuses_a_store_that_is_behind(tmp_path: Path) -> None:
    s = Setup(tmp_path, "sqlite")
    assert s.run("keys", "init").exit_code == 0
    result = s.run("serve", "--check-only")
    assert result.exit_code == 1 and "no store at" in result.output
    assert not (tmp_path / "aduana.db").exists()
