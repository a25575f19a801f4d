"""``aduana sweep``: apply the retention periods of every contract's policy now."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import click
from rich.table import Table

from gateway.audit.log import AuditLog, plugin_sink
from gateway.cli import common
from gateway.cli.common import config_option, console, err_console, handle_errors
from gateway.lifecycle import rules
from gateway.lifecycle.sweeper import Sweeper, SweepReport
from gateway.runtime import Runtime

#: How the command opens the store and keys; tests may replace it.
open_runtime: Callable[[Path], AbstractContextManager[Runtime]] = common.runtime


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (a container without an /etc/passwd entry)
        return "cli:unknown"


@click.command("sweep")
@config_option
@click.option("--dry-run", is_flag=True, help="Count what would be deleted, per contract and class; change nothing.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Rows deleted per transaction.")
@handle_errors
def command(config_path: Path, dry_run: bool, batch_size: int) -> None:
    """Delete what the contracts' retention periods expired: vault entries, then old audit records.

    The gateway runs this itself every `lifecycle.sweep_interval_seconds`. Contracts on legal hold are
    skipped; each deletion is recorded in the audit trail with its counts. Exit status 1 if any part failed.
    """
    with open_runtime(config_path) as rt:
        log = AuditLog(rt.db, rt.keyring, sink=plugin_sink(rt.plugins))
        sweeper = Sweeper(log, rules.load(rt.config, rt.plugins), rt.plugins, batch=batch_size, actor=_actor())
        report = sweeper.sweep(dry_run=dry_run)
    print_report(report)
    if report.failures:
        sys.exit(1)


def print_report(report: SweepReport) -> None:
    verb = "would delete" if report.dry_run else "deleted"
    table = Table("contract", "data class", "retention (pack)", "older than", verb, "note")
    for c in report.contracts:
        for name in ("vault", "payloads"):
            cls = c.classes.get(name)
            if cls is None:
                continue
            rule = f"{cls.period} ({cls.source})" if cls.period else "-"
            table.add_row(c.contract, name, rule, cls.cutoff or "-", str(cls.count), cls.note or c.skipped or "")
    audit = report.audit
    table.add_row("(all)", "audit", f"{audit.period} ({audit.source})" if audit.period else "-", audit.cutoff or "-",
                  str(audit.count), audit.note or "")
    console.print(table)
    totals = report.counts()
    console.print(f"{verb}: {totals['vault']} vault entries, {totals['audit']} audit records "
                  f"({'dry run: nothing changed' if report.dry_run else 'recorded in the audit trail'})",
                  soft_wrap=True, markup=False)
    for failure in report.failures:
        err_console.print(f"error: {failure}", soft_wrap=True, markup=False)


if __name__ == "__main__":  # `python -m gateway.cli.sweep`, before the command is registered in `aduana`
    command()
