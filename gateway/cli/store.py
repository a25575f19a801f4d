"""``aduana store``: schema migrations of the SQLite file or PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import config_option, console, fail, handle_errors, load
from gateway.store import open_database
from gateway.store.base import describe_url
from gateway.store.migrations import MIGRATIONS, applied_versions, migrate, unknown


@click.group("store")
def command() -> None:
    """Manage the gateway's store (SQLite file or PostgreSQL database)."""


@command.command("migrate")
@config_option
@handle_errors
def migrate_cmd(config_path: Path) -> None:
    """Apply every pending schema migration (safe to run again; safe with several replicas at once).

    `aduana serve` checks the schema at start and refuses to run on a store that is behind.
    """
    config = load(config_path)
    db = open_database(config.store_url)
    try:
        ahead = unknown(db)
        if ahead:
            fail(f"the store at {describe_url(db.url)} has migrations {ahead} unknown to this Aduana: upgrade it", 1)
        applied = migrate(db)
    finally:
        db.close()
    if not applied:
        console.print("schema is current; nothing to apply")
    for m in applied:
        console.print(f"applied migration {m.version}: {m.name}")


@command.command("status")
@config_option
@handle_errors
def status(config_path: Path) -> None:
    """Show which migrations are applied and which are pending (reads only)."""
    config = load(config_path)
    db = open_database(config.store_url, create=False)
    try:
        done = applied_versions(db)
        ahead = unknown(db)
    finally:
        db.close()
    console.print(f"store: {describe_url(db.url)} ({db.dialect})")
    for m in MIGRATIONS:
        mark = "[green]applied[/]" if m.version in done else "[yellow]pending[/]"
        console.print(f"{m.version:>3}  {mark}  {m.name}")
    for version in ahead:
        console.print(f"{version:>3}  [red]unknown[/]  applied by a newer Aduana")
