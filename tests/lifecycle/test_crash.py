"""Crash safety: `contract terminate` killed with SIGKILL at every step, then run again, finishes exactly once.

The kill comes from the termination's test hook (``ADUANA_TEST_KILL_AT``), right after a step's durable
commit (or, for ``handover-written`` and ``delete_rows-batch``, in the middle of a step).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from lifecycle_support import ConfiguredStore, audit_bodies, count, restores_all

from gateway.audit import AuditLog
from gateway.cli import main
from gateway.cli.contract import command as contract_cli
from gateway.config import load_config
from gateway.lifecycle import certificate as certs
from gateway.lifecycle.handover import load_private_key, open_bundle
from gateway.lifecycle.state import state_of
from gateway.lifecycle.termination import KILL_ENV, KILL_POINTS
from gateway.runtime import open_runtime

STEP_ACTIONS = ("contract.revoke", "contract.handover", "contract.shred-keys", "contract.delete-records",
                "contract.compact", "contract.terminate")


class Gateway(ConfiguredStore):
    """A configured, seeded store and the termination command run against it."""

    def args(self) -> list[str]:
        return ["terminate", "acme", "--yes", "--batch-size", "5", "--handover-to", str(self.dir / "company.pub"),
                "--handover-out", str(self.dir / "acme.bundle"), "--config", str(self.config)]

    def killed_at(self, point: str) -> None:
        done = subprocess.run([sys.executable, "-m", "gateway.cli.contract", *self.args()], capture_output=True,
                              text=True, env={**os.environ, KILL_ENV: point}, cwd=self.dir, timeout=120)
        assert done.returncode == -signal.SIGKILL, f"not killed at {point}: {done.returncode} {done.stderr}"

    def finish(self) -> str:
        result = CliRunner().invoke(contract_cli, self.args(), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def check_done_exactly_once(self) -> None:
        rt = open_runtime(load_config(self.config))
        try:
            db, keyring = rt.db, rt.keyring
            state = state_of(db, "acme")
            assert state.status == "terminated" and state.certificate is not None
            cert = state.certificate
            certs.verify(cert, AuditLog(db, keyring).public_keys())
            assert certs.store_problems(db, cert) == ([], [])
            for action in STEP_ACTIONS:  # every step recorded exactly once, the certificate issued once
                assert len(audit_bodies(db, action)) == 1, action
            assert cert["destroyed"]["records"]["vault"] == 13 and len(cert["destroyed"]["keys"]) == 2
            assert cert["revoked"]["credentials"] == 1 and cert["handover"]["entries"] == 13
            assert count(db, "vault", "acme") == 0 and count(db, "data_keys", "acme") == 0
            assert restores_all(db, keyring, "globex", self.seeded.tokens["globex"])
            assert count(db, "vault", "globex") == 13
        finally:
            rt.close()
        verified = CliRunner().invoke(main, ["audit", "verify", "--store", "--config", str(self.config)])
        assert verified.exit_code == 0, verified.output
        with (self.dir / "acme.bundle").open("rb") as fh:
            key = load_private_key((self.dir / "company.pem").read_bytes())
            assert {e["value"]: e["token"] for e in open_bundle(fh, key)} == self.seeded.tokens["acme"]
        assert not (self.dir / "acme.bundle.partial").exists()
        assert len(self.secrets) == 15
        for path in self.dir.iterdir():  # no destroyed ciphertext or wrapped key survives in any file
            data = path.read_bytes()
            assert not any(secret in data for secret in self.secrets), path.name


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_at_each_step_then_rerun_finishes_exactly_once(tmp_path: Path, point: str) -> None:
    gw = Gateway(tmp_path)
    gw.killed_at(point)
    output = gw.finish()
    assert '"type": "destruction-certificate"' in output
    gw.check_done_exactly_once()


@pytest.mark.timeout(600)  # several interpreter start-ups in a row
def test_killed_again_and_again_in_one_termination(tmp_path: Path) -> None:
    gw = Gateway(tmp_path)
    for point in ("handover-written", "shred_keys", "delete_rows-batch", "certificate"):
        gw.killed_at(point)
    gw.finish()
    gw.check_done_exactly_once()
    # and once more: nothing happens, the same certificate comes back
    again = CliRunner().invoke(contract_cli, gw.args(), catch_exceptions=False)
    assert again.exit_code == 0 and "already terminated" in again.output
    rt = open_runtime(load_config(gw.config))
    try:
        assert len(audit_bodies(rt.db, "contract.terminate")) == 1
        stored = state_of(rt.db, "acme").certificate
    finally:
        rt.close()
    shown = json.loads(again.output[again.output.index("{"):])
    assert shown == stored
