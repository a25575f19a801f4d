"""``aduana admin``: tokens for the admin HTTP API (auditors and operators)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from gateway.cli.common import audit_action, config_option, console, err_console, fail, handle_errors, runtime
from gateway.runtime import Runtime
from gateway.server.admin_tokens import ROLES, AdminTokens


def _audit(rt: Runtime, action: str, token_id: str, role: str) -> None:
    audit_action(rt, action, details={"token_id": token_id, "role": role})


@click.group("admin")
def command() -> None:
    """Manage tokens for the admin HTTP API (served on the admin listener; see docs/admin-api.yaml)."""


@command.command("issue-token")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="auditor: read and export the audit trail only. operator: also run lifecycle and key actions.")
@config_option
@handle_errors
def issue_token(role: str, config_path: Path) -> None:
    """Issue an admin API token and print it once (only a keyed hash is stored)."""
    with runtime(config_path) as rt:
        token_id, token = AdminTokens(rt.db, rt.keyring).issue(role)  # type: ignore[arg-type]
        _audit(rt, "admin.issue-token", token_id, role)
    err_console.print(f"issued {role} token {token_id}; it is shown once, store it now:")
    click.echo(token)


@command.command("revoke-token")
@click.argument("token_id")
@config_option
@handle_errors
def revoke_token(token_id: str, config_path: Path) -> None:
    """Revoke the admin token TOKEN_ID at once."""
    with runtime(config_path) as rt:
        token = AdminTokens(rt.db, rt.keyring).revoke(token_id)
        if token is None:
            fail(f"no admin token {token_id!r}", 1)
            return
        _audit(rt, "admin.revoke-token", token_id, token.role)
    console.print(f"revoked {token_id} ({token.role})")


@command.command("list-tokens")
@config_option
@handle_errors
def list_tokens(config_path: Path) -> None:
    """List admin tokens (ids, roles, dates; never the tokens themselves)."""
    with runtime(config_path) as rt:
        tokens = AdminTokens(rt.db, rt.keyring).list()
    table = Table("token id", "role", "created", "revoked")
    for t in tokens:
        table.add_row(t.token_id, t.role, t.created_at[:19], (t.revoked_at or "")[:19])
    console.print(table)
