"""``aduana store``: schema migrations."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import config_option, console, handle_errors, load
from gateway.store import open_database
from gateway.store.migrations import MIGRATIONS, applied_versions, migrate


@click.group("store")
def command() -> None:
    """Manage the gateway's store (SQLite file or PostgreSQL database)."""


@command.command("migrate")
@config_option
@handle_errors
def migrate_cmd(config_path: Path) -> None:
    """Apply every pending schema migration (safe to run again; safe with several replicas)."""
    config = load(config_path)
    db = open_database(config.store_url)
    try:
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
    """Show which migrations are applied and which are pending."""
    config = load(config_path)
    db = open_database(config.store_url)
    try:
        done = applied_versions(db)
    finally:
        db.close()
    for m in MIGRATIONS:
        mark = "[green]applied[/]" if m.version in done else "[yellow]pending[/]"
        console.print(f"{m.version:>3}  {mark}  {m.name}")
