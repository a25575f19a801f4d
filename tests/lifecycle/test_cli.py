"""``aduana contract``, ``aduana sweep`` and ``aduana handover`` against a real config and store."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lifecycle_support import ConfiguredStore, count, rows

from gateway.cli import main
from gateway.cli.contract import EXIT_HELD
from gateway.cli.contract import command as contract_cli
from gateway.cli.handover import command as handover_cli
from gateway.cli.sweep import command as sweep_cli
from gateway.lifecycle.state import state_of
from gateway.lifecycle.sweeper import created_stamp


class Cli(ConfiguredStore):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.runner = CliRunner()

    def contract(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(contract_cli, [*args, "--config", str(self.config)], input=input,
                                  catch_exceptions=False)

    def terminate(self, *args: str) -> Result:
        return self.contract("terminate", "acme", *args)

    def audit_key(self) -> Path:
        path = self.dir / "audit.pem"
        result = self.runner.invoke(main, ["audit", "public-key", "--all", "--out", str(path), "--config",
                                           str(self.config)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return path


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_status_hold_and_release(cli: Cli) -> None:
    result = cli.contract("status", "--json")
    assert result.exit_code == 0
    (acme, globex) = json.loads(result.output)
    assert acme == {**acme, "contract": "acme", "status": "active", "hold": None, "vault_entries": 13, "keys": 2,
                    "active_credentials": 1}
    assert globex["contract"] == "globex"
    assert cli.contract("hold", "acme", "--reason", "Case 2025-17").exit_code == 0
    shown = cli.contract("status", "acme")
    assert shown.exit_code == 0 and "Case 2025-17" in shown.output
    assert cli.contract("hold", "acme", "--reason", "again").exit_code == 1
    assert cli.contract("release", "acme").exit_code == 0
    assert json.loads(cli.contract("status", "acme", "--json").output)[0]["hold"] is None
    assert cli.contract("release", "acme").exit_code == 1


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["status", "nobody"], 2),
        (["hold", "nobody", "--reason", "x"], 2),
        (["hold", "acme"], 2),  # --reason is required
        (["hold", "acme", "--reason", " "], 2),
        (["terminate", "nobody", "--yes"], 2),
        (["terminate", "acme", "--handover-out", "x.bundle"], 2),  # needs --handover-to too
    ],
)
def test_caller_mistakes(cli: Cli, args: list[str], code: int) -> None:
    assert cli.contract(*args).exit_code == code
    assert state_of_acme(cli) == "active"


def state_of_acme(cli: Cli) -> str:
    with cli.runtime() as rt:
        return state_of(rt.db, "acme").status


def test_dry_run_and_a_declined_confirmation_change_nothing(cli: Cli) -> None:
    dry = cli.terminate("--dry-run")
    assert dry.exit_code == 0 and "would destroy 2 keys" in dry.output and "would delete 13 vault entries" in dry.output
    declined = cli.contract("terminate", "acme", input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert state_of_acme(cli) == "active"
    with cli.runtime() as rt:
        assert count(rt.db, "vault", "acme") == 13
        assert rows(rt.db, "SELECT COUNT(*) FROM audit_records") == [(0,)]


def test_terminate_then_verify_the_certificate_offline_and_against_the_store(cli: Cli) -> None:
    cert_path, bundle = cli.dir / "acme.cert.json", cli.dir / "acme.bundle"
    result = cli.terminate("--yes", "--certificate-out", str(cert_path), "--handover-to", str(cli.dir / "company.pub"),
                           "--handover-out", str(bundle))
    assert result.exit_code == 0, result.output
    assert "crypto-shredding" in result.output and '"type": "destruction-certificate"' in result.output
    key = cli.audit_key()
    offline = cli.runner.invoke(contract_cli, ["verify-certificate", str(cert_path), "--public-key", str(key)])
    assert offline.exit_code == 0 and "VALID" in offline.output and "13 vault entries" in offline.output
    live = cli.contract("verify-certificate", str(cert_path), "--store")
    assert live.exit_code == 0 and "STORE AGREES" in live.output
    cert = json.loads(cert_path.read_text())
    cert["destroyed"]["records"]["vault"] = 12
    forged = cli.dir / "forged.json"
    forged.write_text(json.dumps(cert))
    bad = cli.runner.invoke(contract_cli, ["verify-certificate", str(forged), "--public-key", str(key)])
    assert bad.exit_code == 1 and "NOT VALID" in bad.output
    neither = cli.runner.invoke(contract_cli, ["verify-certificate", str(cert_path)])
    assert neither.exit_code == 2
    again = cli.terminate("--yes")
    assert again.exit_code == 0 and "already terminated" in again.output
    refused = cli.runner.invoke(main, ["vendor", "issue-key", "acme", "--config", str(cli.config)])
    assert refused.exit_code == 1 and "terminated" in refused.output and "adu_k_" not in refused.output


def test_verify_against_a_store_that_disagrees(cli: Cli) -> None:
    cert_path = cli.dir / "acme.cert.json"
    assert cli.terminate("--yes", "--certificate-out", str(cert_path)).exit_code == 0
    with cli.runtime() as rt, rt.db.transaction(write=True) as tx:
        tx.execute("INSERT INTO vault (contract, token, entity_type, blind_index, key_version, ciphertext, created_at)"
                   " VALUES ('acme', 't', 'PERSON', ?, 1, ?, 'x')", (b"i", b"c"))
    result = cli.contract("verify-certificate", str(cert_path), "--store")
    assert result.exit_code == 1 and "STORE DISAGREES" in result.output


def test_a_held_contract_stops_with_exit_3(cli: Cli) -> None:
    assert cli.contract("hold", "acme", "--reason", "litigation").exit_code == 0
    result = cli.terminate("--yes")
    assert result.exit_code == EXIT_HELD and "legal hold" in result.output
    assert state_of_acme(cli) == "terminating"
    assert cli.contract("release", "acme").exit_code == 0
    assert cli.terminate("--yes").exit_code == 0 and state_of_acme(cli) == "terminated"


def test_handover_keygen_and_open(cli: Cli, tmp_path: Path) -> None:
    private, public = tmp_path / "co.pem", tmp_path / "co.pub"
    run = cli.runner.invoke
    assert run(handover_cli, ["keygen", "--private-out", str(private), "--public-out", str(public)]).exit_code == 0
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert run(handover_cli, ["keygen", "--private-out", str(private), "--public-out", str(public)]).exit_code == 1
    bundle = tmp_path / "acme.bundle"
    assert cli.terminate("--yes", "--handover-to", str(public), "--handover-out", str(bundle)).exit_code == 0
    out = tmp_path / "table.jsonl"
    opened = run(handover_cli, ["open", str(bundle), "--private-key", str(private), "--out", str(out)])
    assert opened.exit_code == 0 and "personal data in the clear" in opened.output and "13 entries" in opened.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    table = {e["value"]: e["token"] for e in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert table == cli.seeded.tokens["acme"]
    assert run(handover_cli, ["open", str(bundle), "--private-key", str(private), "--out", str(out)]).exit_code == 1
    to_stdout = run(handover_cli, ["open", str(bundle), "--private-key", str(private)])
    assert to_stdout.exit_code == 0 and "Acme Customer 3" in to_stdout.output
    # the wrong key, or a damaged bundle: refused, and no partial table is left behind
    assert run(handover_cli, ["open", str(bundle), "--private-key", str(cli.dir / "company.pem"),
                              "--out", str(tmp_path / "x.jsonl")]).exit_code == 1
    lines = bundle.read_bytes().splitlines(keepends=True)
    (tmp_path / "cut.bundle").write_bytes(lines[0])
    cut = run(handover_cli, ["open", str(tmp_path / "cut.bundle"), "--private-key", str(private),
                             "--out", str(tmp_path / "y.jsonl")])
    assert cut.exit_code == 1 and "truncated" in cut.output
    assert not (tmp_path / "y.jsonl").exists() and not (tmp_path / "y.jsonl.partial").exists()


def test_rsa_handover(cli: Cli, tmp_path: Path) -> None:
    private, public = tmp_path / "co.pem", tmp_path / "co.pub"
    assert cli.runner.invoke(handover_cli, ["keygen", "--rsa", "3072", "--private-out", str(private),
                                            "--public-out", str(public)]).exit_code == 0
    bundle = tmp_path / "acme.bundle"
    assert cli.terminate("--yes", "--handover-to", str(public), "--handover-out", str(bundle)).exit_code == 0
    opened = cli.runner.invoke(handover_cli, ["open", str(bundle), "--private-key", str(private)])
    assert opened.exit_code == 0 and opened.output.count('"token"') == 13


def test_sweep_dry_run_then_sweep(cli: Cli) -> None:
    with cli.runtime() as rt, rt.db.transaction(write=True) as tx:
        tx.execute("UPDATE vault SET created_at = ? WHERE contract = 'acme'",
                   (created_stamp(datetime(2020, 1, 1, tzinfo=UTC)),))
    run = cli.runner.invoke
    dry = run(sweep_cli, ["--dry-run", "--config", str(cli.config)], catch_exceptions=False)
    assert dry.exit_code == 0 and "would delete: 13 vault entries" in dry.output
    done = run(sweep_cli, ["--config", str(cli.config)], catch_exceptions=False)
    assert done.exit_code == 0 and "deleted: 13 vault entries" in done.output
    with cli.runtime() as rt:
        assert count(rt.db, "vault", "acme") == 0 and count(rt.db, "vault", "globex") == 13
