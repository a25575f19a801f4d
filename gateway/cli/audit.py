"""``aduana audit``: export the audit trail, verify it offline or live, sign checkpoints, purge."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from gateway.audit.checkpoint import load_public_keys, pem_bundle
from gateway.audit.export import (
    FORMATS,
    ExportFilter,
    export,
    export_range,
    manifest_path_for,
)
from gateway.audit.log import AuditLog, plugin_sink
from gateway.audit.record import AuditEvent, parse_time
from gateway.audit.retention import audit_retention, purge
from gateway.audit.verify import Report, verify_export, verify_store
from gateway.cli import common
from gateway.cli.common import config_option, console, err_console, handle_errors
from gateway.runtime import Runtime

#: How commands open the store and keys; tests replace it.
open_runtime: Callable[[Path], AbstractContextManager[Runtime]] = common.runtime


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (a container without /etc/passwd entry)
        return "cli:unknown"


@contextmanager
def _opened(config_path: Path) -> Iterator[tuple[Runtime, AuditLog]]:
    with open_runtime(config_path) as rt:
        yield rt, AuditLog(rt.db, rt.keyring, sink=plugin_sink(rt.plugins))


@contextmanager
def _audit_log(config_path: Path) -> Iterator[AuditLog]:
    with _opened(config_path) as (_, log):
        yield log


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


class _Time(click.ParamType):  # type: ignore[type-arg]  # generic only in click's stubs
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_time(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = _Time()


def _read_keys(path: Path) -> dict[str, Ed25519PublicKey]:
    try:
        return load_public_keys(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="--public-key") from exc


@click.group("audit")
def command() -> None:
    """The tamper-evident audit trail: export it, verify it, sign checkpoints, purge old records.

    Every gateway decision is a record chained by SHA-256 to the one before; checkpoints of the
    chain's head are signed with the store's Ed25519 audit key. docs/audit.md explains the formats
    and how to verify an export without Aduana.
    """


@command.command("public-key")
@config_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the PEM to this file instead of standard output.")
@click.option("--all", "all_versions", is_flag=True,
              help="Every audit key this store has used (after rotations), not only the current one.")
@handle_errors
def public_key(config_path: Path, out: Path | None, all_versions: bool) -> None:
    """Print the audit public key (PEM) that verifies checkpoints and export manifests.

    Give it to auditors through a channel they trust; its key id is printed on standard error.
    """
    with _audit_log(config_path) as log:
        signer = log.signer
        pem = pem_bundle(log.public_keys().values()) if all_versions else signer.public_pem
    if out is None:
        click.echo(pem, nl=False)
    else:
        out.write_text(pem, encoding="ascii")
        err_console.print(f"wrote {out}", soft_wrap=True, markup=False)
    err_console.print(f"key id {signer.key_id} (audit key version {signer.version})", soft_wrap=True, markup=False)


@command.command("checkpoint")
@config_option
@handle_errors
def checkpoint(config_path: Path) -> None:
    """Sign a checkpoint of the chain's head now (the server also does this on a timer and at shutdown)."""
    with _audit_log(config_path) as log:
        statement = log.checkpoint()
    console.print(f"checkpoint signed: record {statement['seq']}, hash {statement['hash']}, "
                  f"time {statement['time']}, key id {statement['key_id']}", soft_wrap=True, markup=False)


@command.command("export")
@config_option
@click.option("--from", "start", type=TIME, help="First record time to include (RFC 3339 or a date; UTC).")
@click.option("--to", "end", type=TIME, help="Include records before this time (exclusive).")
@click.option("--contract", help="Only this contract's records; the others appear as omitted entries (digests).")
@click.option("--vendor", help="Only this vendor's records; the others appear as omitted entries (digests).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="jsonl (one record per line) or csv.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write; the signed manifest goes beside it as FILE.manifest.json.")
@handle_errors
def export_cmd(config_path: Path, start: datetime | None, end: datetime | None, contract: str | None,
               vendor: str | None, fmt: str, out: Path) -> None:
    """Export audit records with a signed manifest, for an auditor to verify offline."""
    if start and end and start >= end:
        raise click.BadParameter("--from must be before --to", param_hint="--from")
    flt = ExportFilter(start=start, end=end, contract=contract, vendor=vendor)
    with _audit_log(config_path) as log:
        total = export_range(log, flt).size
        with _progress("exporting", total) as advance:
            manifest = export(log, out, fmt, flt, progress=advance)  # type: ignore[arg-type]
        log.append(AuditEvent(
            kind="admin", action="audit.export", actor=_actor(), contract=contract, vendor=vendor,
            details={"records": manifest["count"], "omitted": manifest["omitted"],
                     "first_seq": manifest["first_seq"], "last_seq": manifest["last_seq"], "format": fmt},
        ))
    span = _span(manifest["first_seq"], manifest["last_seq"], manifest["count"] + manifest["omitted"])
    console.print(f"exported {manifest['count']} records ({span}, {manifest['omitted']} omitted by the filter) "
                  f"to {out}", soft_wrap=True, markup=False)
    console.print(f"manifest {manifest_path_for(out)} signed by key {manifest['key_id']}, "
                  f"{len(manifest['checkpoints'])} checkpoints", soft_wrap=True, markup=False)


def _span(first: int | None, last: int | None, entries: int) -> str:
    return f"records {first}-{last}" if entries else "no records"


def _print_report(report: Report) -> None:
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", markup=True, soft_wrap=True)
    keys = ", ".join(sorted(report.key_ids)) or "none"
    span = _span(report.first_seq, report.last_seq, report.records + report.omitted)
    summary = (f"{span}: {report.records} records, {report.omitted} omitted entries, "
               f"{report.checkpoints} checkpoints; key ids {keys}")
    if report.anchor_seq is not None:
        summary += f"; starts after the retention anchor at record {report.anchor_seq}"
    if report.ok:
        console.print(f"[bold green]INTACT[/] {escape(report.source)}: {escape(summary)}", markup=True, soft_wrap=True)
        return
    first = report.first_bad_seq
    console.print(f"[bold red]NOT INTACT[/] {escape(report.source)}: first bad sequence number: "
                  f"{first if first is not None else 'unknown (see below)'}", markup=True, soft_wrap=True)
    for problem in report.problems[:20]:
        console.print(f"  - {problem.message}", soft_wrap=True, markup=False)
    if report.problem_count > 20:
        console.print(f"  … and {report.problem_count - 20} more problems", soft_wrap=True, markup=False)
    console.print(summary, soft_wrap=True, markup=False)


@command.command("verify")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM file with the audit public key(s) from `aduana audit public-key`.")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The export's manifest, if not FILE.manifest.json.")
@click.option("--store", is_flag=True, help="Verify the live store named by --config instead of a file.")
@config_option
@handle_errors
def verify_cmd(file: Path | None, public_key_file: Path | None, manifest: Path | None, store: bool,
               config_path: Path) -> None:
    """Recompute the chain and check every signature; exit 0 when intact, 1 when not.

    FILE is an export; its manifest is read from FILE.manifest.json. Needs no store and no
    configuration: only the file, its manifest and the public key. With --store, verifies the live
    store instead (using the store's own keys unless --public-key is given).
    """
    if (file is None) == (not store):
        raise click.UsageError("give either an export FILE or --store")
    keys = _read_keys(public_key_file) if public_key_file else None
    if store:
        with _audit_log(config_path) as log:
            head_seq, _ = log.head()
            with _progress("verifying", head_seq or None) as advance:
                report = verify_store(log.db, keys or log.public_keys(), progress=advance)
    else:
        assert file is not None
        with _progress("verifying", None) as advance:
            report = verify_export(file, keys, manifest_path=manifest, progress=advance)
    _print_report(report)
    sys.exit(0 if report.ok else 1)


def policy_retention(rt: Runtime) -> tuple[timedelta, str]:
    """How long audit records must be kept: the longest ``retention.audit`` of any contract's policy."""
    from gateway.policy.compile import library

    lib = library(rt.config, rt.plugins)
    periods = []
    for contract in rt.config.contracts.values():
        for route in contract.routes:
            policy = lib.effective(route.policy_packs or contract.policy_packs)
            if "audit" in policy.retention:
                periods.append(policy.retention["audit"])
    return audit_retention(periods)


@command.command("purge")
@config_option
@click.option("--before", type=TIME,
              help="Remove records written before this time (UTC). Default: now minus the retention period.")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def purge_cmd(config_path: Path, before: datetime | None, dry_run: bool, yes: bool) -> None:
    """Remove audit records older than the retention period, leaving a signed anchor.

    The period is the longest `retention.audit` of any contract's effective policy (six years when
    no pack sets one); a --before later than that is refused. The remaining chain verifies from the
    anchor on, and the purge itself is recorded in the chain.
    """
    with _opened(config_path) as (rt, log):
        period, source = policy_retention(rt)
        now = log.now()
        cutoff = before or now - period
        try:
            preview = purge(log, cutoff, dry_run=True, min_retention=period, now=now)
        except ValueError as exc:
            raise click.BadParameter(f"{exc} (retention: {source})", param_hint="--before") from exc
        err_console.print(f"retention of audit records: {source}", soft_wrap=True, markup=False)
        if preview.count == 0:
            console.print(f"no audit records before {preview.before}: nothing to purge", soft_wrap=True, markup=False)
            return
        what = f"{preview.count} audit records ({preview.first_seq}-{preview.through_seq}) before {preview.before}"
        if dry_run:
            console.print(f"would remove {what}", soft_wrap=True, markup=False)
            return
        if not yes:
            click.confirm(f"Remove {what}? They cannot be restored", abort=True)
        result = purge(log, cutoff, actor=_actor(), min_retention=period, now=now)
    seq = result.record["seq"] if result.record else "?"
    console.print(f"removed {result.count} audit records; the chain now starts after the signed anchor at "
                  f"record {result.through_seq} (the purge is record {seq})", soft_wrap=True, markup=False)
