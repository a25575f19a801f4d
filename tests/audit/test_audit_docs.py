"""docs/audit.md stays true: its independent verifier accepts our exports and rejects tampered ones."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from audit_support import event

from gateway.audit import AuditLog, ExportFilter, export, purge
from gateway.audit.export import manifest_path_for
from gateway.audit.record import canonical_json

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def _snippet(tmp_path: Path) -> Path:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- independent-verifier[^>]*-->\s*```python\n(.*?)```", text, re.DOTALL)
    assert match, "docs/audit.md lost its independent verifier"
    path = tmp_path / "verify_aduana_export.py"
    path.write_text(match.group(1), encoding="utf-8")
    return path


def _run(script: Path, export_file: Path, pem: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), str(export_file), str(pem)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def exported(log: AuditLog, tmp_path: Path) -> tuple[AuditLog, Path]:
    for i in range(1, 13):
        log.append(event(i, contract="acme" if i % 3 else "beta", vendor="Zoë Contact Center"))
        if i == 6:
            log.checkpoint()
    pem = tmp_path / "audit.pem"
    pem.write_text(log.signer.public_pem)
    return log, pem


@pytest.mark.parametrize("flt", [ExportFilter(), ExportFilter(contract="beta")], ids=["complete", "filtered"])
def test_the_documented_verifier_accepts_an_export(exported: tuple[AuditLog, Path], tmp_path: Path,
                                                   flt: ExportFilter) -> None:
    log, pem = exported
    out = tmp_path / "audit.jsonl"
    export(log, out, "jsonl", flt)
    result = _run(_snippet(tmp_path), out, pem)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("INTACT")


def test_the_documented_verifier_follows_an_anchor(exported: tuple[AuditLog, Path], tmp_path: Path) -> None:
    log, pem = exported
    purge(log, log.now() - timedelta(minutes=5), min_retention=timedelta(0))
    out = tmp_path / "audit.jsonl"
    manifest = export(log, out, "jsonl")
    assert manifest["anchor"] is not None
    assert _run(_snippet(tmp_path), out, pem).returncode == 0


@pytest.mark.parametrize("attack", ["modify", "truncate", "forge-checkpoint"])
def test_the_documented_verifier_rejects_tampering(exported: tuple[AuditLog, Path], tmp_path: Path,
                                                   attack: str) -> None:
    log, pem = exported
    out = tmp_path / "audit.jsonl"
    export(log, out, "jsonl")
    lines = out.read_text(encoding="utf-8").splitlines()
    manifest_file = manifest_path_for(out)
    if attack == "modify":
        record = json.loads(lines[4])
        record["decision"] = "blocked"
        lines[4] = canonical_json(record).decode()
    elif attack == "truncate":
        del lines[-2:]
    else:
        manifest = json.loads(manifest_file.read_text())
        manifest["checkpoints"][0]["hash"] = "ab" * 32
        manifest_file.write_text(json.dumps(manifest))
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    result = _run(_snippet(tmp_path), out, pem)
    assert result.returncode != 0
    expected = {"modify": "NOT INTACT: record 5", "truncate": "NOT INTACT: truncated",
                "forge-checkpoint": "InvalidSignature"}[attack]
    assert expected in result.stderr
