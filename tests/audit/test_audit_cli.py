"""``aduana audit …``: every command, its help, its output and its exit status."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_support import event
from click.testing import Result

from gateway.audit import AuditLog, load_public_keys
from gateway.audit.export import manifest_path_for

Cli = Callable[..., Result]


@pytest.fixture
def filled(log: AuditLog) -> AuditLog:
    for i in range(1, 11):
        log.append(event(i, contract="acme" if i % 2 else "beta"))
    return log


@pytest.mark.parametrize("args", [[], ["public-key"], ["export"], ["verify"], ["checkpoint"], ["purge"]])
def test_every_command_has_help(cli: Cli, args: list[str]) -> None:
    result = cli(*args, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_public_key(cli: Cli, filled: AuditLog, tmp_path: Path) -> None:
    result = cli("public-key")
    assert result.exit_code == 0
    keys = load_public_keys(result.stdout.encode())
    assert list(keys) == [filled.signer.key_id]
    assert f"key id {filled.signer.key_id}" in result.stderr
    out = tmp_path / "audit.pem"
    assert cli("public-key", "--all", "--out", str(out)).exit_code == 0
    assert list(load_public_keys(out.read_bytes())) == [filled.signer.key_id]


def test_checkpoint(cli: Cli, filled: AuditLog) -> None:
    result = cli("checkpoint")
    assert result.exit_code == 0
    assert "checkpoint signed: record 10" in result.output
    assert filled.latest_checkpoint() is not None


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_verify(cli: Cli, filled: AuditLog, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"acme.{fmt}"
    result = cli("export", "--format", fmt, "--out", str(out), "--contract", "acme", "--from", "2019-01-01")
    assert result.exit_code == 0, result.output
    assert "exported 5 records (records 1-10, 5 omitted by the filter)" in result.output
    manifest = json.loads(manifest_path_for(out).read_text())
    assert manifest["filter"]["contract"] == "acme" and manifest["complete"] is False
    # The export itself is an admin action on the chain.
    export_record = filled.head()[0]
    with filled.db.transaction() as tx:
        row = tx.fetchone("SELECT body FROM audit_records WHERE seq = ?", (export_record,))
    assert row is not None
    body = json.loads(row[0])
    assert body["action"] == "audit.export" and body["actor"].startswith("cli:")
    assert body["details"]["records"] == 5
    pem = tmp_path / "audit.pem"
    pem.write_text(filled.signer.public_pem)
    result = cli("verify", str(out), "--public-key", str(pem))
    assert result.exit_code == 0, result.output
    assert "5 records, 5 omitted entries" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["verify"],  # neither a file nor --store
        ["verify", "--store", "FILE"],  # both (FILE must exist: created below)
        ["verify", "FILE", "--public-key", "NOTAKEY"],
        ["export", "--format", "xml", "--out", "x"],
        ["export", "--format", "jsonl", "--out", "x", "--from", "2020-01-01", "--to", "2019-01-01"],
        ["export", "--format", "jsonl", "--out", "x", "--from", "yesterday"],
        ["purge", "--before", "2030-01-01"],  # younger than six years
    ],
)
def test_usage_errors_exit_2(cli: Cli, filled: AuditLog, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "FILE").write_text("")
    (tmp_path / "NOTAKEY").write_text("not a key")
    resolved = [str(tmp_path / a) if a in ("FILE", "NOTAKEY") else a for a in args]
    result = cli(*resolved)
    assert result.exit_code == 2, result.output


def test_purge(cli: Cli, filled: AuditLog) -> None:
    result = cli("purge", "--before", "2019-01-01T00:04:00Z", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would remove 3 audit records (1-3)" in result.output
    assert "six years" in result.stderr
    assert filled.head()[0] == 10
    result = cli("purge", "--before", "2019-01-01T00:04:00Z", input="n\n")
    assert result.exit_code == 1  # aborted at the confirmation
    assert filled.head()[0] == 10
    result = cli("purge", "--before", "2019-01-01T00:04:00Z", "--yes")
    assert result.exit_code == 0, result.output
    assert "removed 3 audit records" in result.output and "(the purge is record 11)" in result.output
    assert cli("verify", "--store").exit_code == 0
    result = cli("purge", "--yes")  # default cutoff: now minus the retention, i.e. everything from 2019
    assert "removed 7 audit records" in result.output  # 4-10; the first purge (record 11) is recent
    assert cli("verify", "--store").exit_code == 0
