"""``aduana vendor``: vendor API keys (issued once, stored hashed, revocable)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from gateway.cli.common import audit_action, config_option, console, err_console, fail, handle_errors, runtime
from gateway.credentials import Credentials
from gateway.lifecycle.state import state_of
from gateway.runtime import Runtime


def _credentials(rt: Runtime) -> Credentials:
    return Credentials(rt.db, rt.keyring)


def _audit(rt: Runtime, action: str, contract: str, credential_id: str) -> None:
    vendor = rt.config.contracts[contract].vendor if contract in rt.config.contracts else None
    audit_action(rt, action, contract=contract, vendor=vendor, credential_id=credential_id)


@click.group("vendor")
def command() -> None:
    """Manage the API keys vendors use to call the gateway."""


@command.command("issue-key")
@click.argument("contract")
@config_option
@handle_errors
def issue_key(contract: str, config_path: Path) -> None:
    """Issue a new API key for CONTRACT and print it once (only a keyed hash is stored)."""
    with runtime(config_path) as rt:
        if contract not in rt.config.contracts:
            fail(f"no contract {contract!r} in {config_path} (known: {', '.join(sorted(rt.config.contracts))})", 2)
        state = state_of(rt.db, contract)
        if state.ended:
            # A key for an ended contract would be refused on every request: say so now, issue nothing.
            fail(f"contract {contract} is {state.status}: no new keys are issued for it", 1)
        key_id, key = _credentials(rt).issue(contract)
        _audit(rt, "vendor.issue-key", contract, key_id)
    err_console.print(f"issued key {key_id} for contract {contract}; it is shown once, store it now:")
    click.echo(key)


@command.command("revoke-key")
@click.argument("key_id")
@config_option
@handle_errors
def revoke_key(key_id: str, config_path: Path) -> None:
    """Revoke the API key KEY_ID at once: its next request gets 401."""
    with runtime(config_path) as rt:
        cred = _credentials(rt).revoke(key_id)
        if cred is None:
            fail(f"no API key {key_id!r}", 1)
            return
        _audit(rt, "vendor.revoke-key", cred.contract, key_id)
    console.print(f"revoked {key_id} (contract {cred.contract})")


@command.command("list-keys")
@click.option("--contract", default=None, help="Only this contract's keys.")
@config_option
@handle_errors
def list_keys(contract: str | None, config_path: Path) -> None:
    """List API keys (ids, contracts, dates; never the keys themselves)."""
    with runtime(config_path) as rt:
        creds = _credentials(rt).list(contract)
    table = Table("key id", "contract", "created", "revoked")
    for c in creds:
        table.add_row(c.key_id, c.contract, c.created_at[:19], (c.revoked_at or "")[:19])
    console.print(table)
