"""``aduana contract``: a contract's lifecycle — status, legal hold, termination and its certificate."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from gateway.audit.checkpoint import load_public_keys
from gateway.audit.log import AuditLog, plugin_sink
from gateway.cli import common
from gateway.cli.common import config_option, console, err_console, fail, handle_errors
from gateway.lifecycle import certificate as certs
from gateway.lifecycle import rules
from gateway.lifecycle.handover import HandoverTarget
from gateway.lifecycle.hold import place_hold, release_hold
from gateway.lifecycle.state import TERMINATED, ContractState, all_states
from gateway.lifecycle.termination import Preview, Termination
from gateway.runtime import Runtime

#: How commands open the store and keys; tests may replace it.
open_runtime: Callable[[Path], AbstractContextManager[Runtime]] = common.runtime
#: Exit status of a termination stopped by a legal hold before anything was destroyed.
EXIT_HELD = 3


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name (a container without an /etc/passwd entry)
        return "cli:unknown"


@contextmanager
def _opened(config_path: Path) -> Iterator[tuple[Runtime, AuditLog]]:
    with open_runtime(config_path) as rt:
        yield rt, AuditLog(rt.db, rt.keyring, sink=plugin_sink(rt.plugins))


def _vendor(rt: Runtime, contract: str) -> str:
    if contract not in rt.config.contracts:
        fail(f"no contract {contract!r} in the config (known: {', '.join(sorted(rt.config.contracts))})", 2)
    return rt.config.contracts[contract].vendor


def _counts(rt: Runtime) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with rt.db.transaction() as tx:
        for what, sql in (("vault", "SELECT contract, COUNT(*) FROM vault GROUP BY contract"),
                          ("keys", "SELECT contract, COUNT(*) FROM data_keys GROUP BY contract"),
                          ("credentials", "SELECT contract, COUNT(*) FROM credentials WHERE revoked_at IS NULL"
                                          " GROUP BY contract")):
            for contract, n in tx.fetchall(sql):
                out.setdefault(str(contract), {})[what] = int(n)
    return out


@click.group("contract")
def command() -> None:
    """A contract's lifecycle: status, legal hold, termination and its destruction certificate.

    The config lists contracts; the store says whether each is active, on legal hold, being
    terminated or terminated. docs/lifecycle.md explains every step.
    """


@command.command("status")
@click.argument("contract", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@config_option
@handle_errors
def status(contract: str | None, as_json: bool, config_path: Path) -> None:
    """Show each contract's status, legal hold, termination step and what the store holds for it."""
    with open_runtime(config_path) as rt:
        states = all_states(rt.db)
        counts = _counts(rt)
        names = sorted(set(rt.config.contracts) | set(states) | {c for c in counts if not c.startswith("_")})
        if contract is not None:
            if contract not in states:
                _vendor(rt, contract)
            names = [contract]
        rows = [_status_row(n, rt.config.contracts[n].vendor if n in rt.config.contracts else None,
                            states.get(n, ContractState(n)), counts.get(n, {})) for n in names]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if contract is not None:
        _print_detail(rows[0])
        return
    table = Table("contract", "vendor", "status", "legal hold", "step done", "vault entries", "keys",
                  "active API keys")
    for r in rows:
        hold = f"since {r['hold']['since']} by {r['hold']['by']}: {r['hold']['reason']}" if r["hold"] else "-"
        table.add_row(r["contract"], r["vendor"] or "(not in config)", r["status"], hold, r["step"] or "-",
                      str(r["vault_entries"]), str(r["keys"]), str(r["active_credentials"]))
    console.print(table)
    for r in rows:
        if r["certificate"]:
            console.print(f"{r['contract']}: terminated {r['terminated_at']}; certificate {r['certificate']}",
                          soft_wrap=True, markup=False)


def _print_detail(r: dict[str, Any]) -> None:
    hold = r["hold"]
    lines = [
        f"contract {r['contract']} ({r['vendor'] or 'not in the config'})",
        f"  status: {r['status']}" + (f" (started {r['started_at']})" if r["started_at"] else ""),
        f"  legal hold: since {hold['since']} by {hold['by']}: {hold['reason']}" if hold else "  legal hold: none",
        f"  termination step done: {r['step'] or '-'}",
        f"  store holds: {r['vault_entries']} vault entries, {r['keys']} keys, {r['active_credentials']} active "
        "API keys",
    ]
    if r["certificate"]:
        lines.append(f"  terminated {r['terminated_at']}; certificate {r['certificate']}")
    for line in lines:
        console.print(line, soft_wrap=True, markup=False)


def _status_row(name: str, vendor: str | None, state: ContractState, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "contract": name, "vendor": vendor, "status": state.status, "step": state.step,
        "hold": {"reason": state.hold_reason, "since": state.hold_since, "by": state.hold_actor}
        if state.on_hold else None,
        "vault_entries": counts.get("vault", 0), "keys": counts.get("keys", 0),
        "active_credentials": counts.get("credentials", 0),
        "started_at": state.started_at, "terminated_at": state.terminated_at,
        "certificate": certs.digest(state.certificate) if state.certificate else None,
    }


@command.command("hold")
@click.argument("contract")
@click.option("--reason", required=True, help="Why (a case or request reference); shown by `contract status`.")
@config_option
@handle_errors
def hold(contract: str, reason: str, config_path: Path) -> None:
    """Put CONTRACT on legal hold: no retention sweep and no termination deletes any of its data."""
    with _opened(config_path) as (rt, log):
        try:
            held = place_hold(log, contract, _vendor(rt, contract), reason, _actor())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--reason") from exc
    console.print(f"contract {contract} is on legal hold since {held.hold_since}: nothing of it will be deleted "
                  f"until `aduana contract release {contract}`", soft_wrap=True, markup=False)


@command.command("release")
@click.argument("contract")
@config_option
@handle_errors
def release(contract: str, config_path: Path) -> None:
    """Release CONTRACT's legal hold: retention and termination resume at their next run."""
    with _opened(config_path) as (rt, log):
        release_hold(log, contract, _vendor(rt, contract), _actor())
    console.print(f"contract {contract}'s legal hold is released", soft_wrap=True, markup=False)


def _target(handover_to: Path | None, handover_out: Path | None) -> HandoverTarget | None:
    if (handover_to is None) != (handover_out is None):
        raise click.UsageError("--handover-to and --handover-out go together")
    if handover_to is None or handover_out is None:
        return None
    try:
        return HandoverTarget(handover_to.read_text(encoding="ascii"), str(handover_out.resolve()))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.BadParameter(f"{handover_to}: {exc}", param_hint="--handover-to") from exc


@command.command("terminate")
@click.argument("contract")
@click.option("--handover-to", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The company's public key (PEM, X25519 or RSA) to encrypt the handover bundle to.")
@click.option("--handover-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the handover bundle (the contract's token→value table, encrypted).")
@click.option("--certificate-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the signed destruction certificate to this file.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Vault rows read or deleted per transaction.")
@config_option
@handle_errors
def terminate(contract: str, handover_to: Path | None, handover_out: Path | None, certificate_out: Path | None,
              dry_run: bool, yes: bool, batch_size: int, config_path: Path) -> None:
    """Terminate CONTRACT: revoke its API keys, optionally hand its tokens over, destroy its data, certify it.

    Resumable: if it stops (a crash, a legal hold), run the same command again and it continues where it
    stopped; a finished termination is never repeated. Exit status 3 means a legal hold stopped it
    before anything was destroyed.
    """
    target = _target(handover_to, handover_out)
    with _opened(config_path) as (rt, log):
        policy = rules.load(rt.config, rt.plugins).get(contract) if contract in rt.config.contracts else None
        if policy is None:
            _vendor(rt, contract)
            return
        job = Termination(log, rt.keyring, policy, rt.plugins, actor=_actor(), batch=batch_size)
        preview = job.preview(target)
        if dry_run or preview.status == TERMINATED:
            _print_preview(preview, dry_run)
            if not dry_run:
                _emit(job.run(target).certificate, certificate_out)
            return
        if target is not None and Path(target.out).exists() and preview.status == "active":
            raise click.BadParameter(f"{target.out} exists: refusing to overwrite it", param_hint="--handover-out")
        if not yes:
            _print_preview(preview, True)
            click.confirm(f"Terminate contract {contract} ({policy.vendor})? Its data is destroyed for good",
                          abort=True)
        outcome = job.run(target)
    for step in outcome.ran:
        console.print(f"  done: {_STEP_TEXT[step]}", soft_wrap=True, markup=False)
    for failure in outcome.notify_failures:
        err_console.print(f"warning: a plugin failed to take the termination notice: {escape(failure)}")
    if outcome.status == "held":
        err_console.print(f"contract {contract} is on legal hold: its API keys are revoked, but nothing was "
                          f"destroyed. Run this command again after `aduana contract release {contract}`.",
                          soft_wrap=True, markup=False)
        sys.exit(EXIT_HELD)
    console.print(f"contract {contract} is terminated; destruction certificate:", soft_wrap=True, markup=False)
    _emit(outcome.certificate, certificate_out)


_STEP_TEXT = {
    "revoke": "every API key of the contract revoked (its requests get 403 contract_terminated)",
    "handover": "handover bundle written (encrypted to the company's key)",
    "shred_keys": "data and token keys destroyed (crypto-shredding)",
    "delete_rows": "vault entries deleted",
    "compact": "store compacted (no copy of the deleted rows left on disk)",
    "certificate": "destruction certificate signed and stored",
}


def _print_preview(p: Preview, dry_run: bool) -> None:
    say = "would" if dry_run else "will"
    console.print(f"contract {p.contract} ({p.vendor}): status {p.status}"
                  + (f", last step done: {p.step}" if p.step else ""), soft_wrap=True, markup=False)
    if p.hold:
        console.print(f"  legal hold {p.hold}: the run {say} stop before destroying anything",
                      soft_wrap=True, markup=False)
    if p.status == TERMINATED:
        console.print("  already terminated: nothing to do (its certificate follows)", markup=False)
        return
    console.print(f"  {say} revoke {len(p.credentials)} active API keys: {', '.join(p.credentials) or '-'}",
                  soft_wrap=True, markup=False)
    if p.handover:
        console.print(f"  {say} write {p.vault} entries to {p.handover.out} for key {p.handover.recipient}",
                      soft_wrap=True, markup=False)
    keys = ", ".join(f"{k['key_id']} ({k['purpose']} v{k['version']})" for k in p.keys) or "none"
    console.print(f"  {say} destroy {len(p.keys)} keys: {keys}", soft_wrap=True, markup=False)
    console.print(f"  {say} delete {p.vault} vault entries and compact the store; {p.audit_records} audit "
                  "records (no values) are kept for the audit retention period", soft_wrap=True, markup=False)
    console.print(f"  steps left: {', '.join(p.next_steps) or 'none'}", soft_wrap=True, markup=False)


def _emit(certificate: dict[str, Any] | None, out: Path | None) -> None:
    if certificate is None:
        return
    click.echo(json.dumps(certificate, indent=2, sort_keys=True, ensure_ascii=False))
    if out is not None:
        out.write_text(certs.dumps(certificate), encoding="utf-8")
        err_console.print(f"wrote {out}; verify it with `aduana contract verify-certificate {out} --public-key "
                          "AUDIT_KEY.pem` (`aduana audit public-key`)", soft_wrap=True, markup=False)


@command.command("verify-certificate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM file with the audit public key(s) (`aduana audit public-key --all`).")
@click.option("--store", is_flag=True, help="Also check the store named by --config holds none of what was destroyed.")
@config_option
@handle_errors
def verify_certificate(file: Path, public_key_file: Path | None, store: bool, config_path: Path) -> None:
    """Check a destruction certificate's signature offline; with --store, also that nothing it lists survives.

    Exit status 0 when valid (and, with --store, the store agrees), 1 otherwise.
    """
    if public_key_file is None and not store:
        raise click.UsageError("give --public-key PEM (offline) or --store (with --config)")
    keys = None
    if public_key_file is not None:
        try:
            keys = load_public_keys(public_key_file.read_bytes())
        except (OSError, TypeError, ValueError) as exc:
            raise click.BadParameter(f"{public_key_file}: {exc}", param_hint="--public-key") from exc
    try:
        cert = certs.load(file)
    except certs.CertificateInvalid as exc:
        _invalid(file, str(exc))
        return
    if not store:
        assert keys is not None
        _check_signature(file, cert, keys)
        return
    with _opened(config_path) as (_, log):
        _check_signature(file, cert, keys or log.public_keys())
        problems, notes = certs.store_problems(log.db, cert)
    for note in notes:
        err_console.print(f"note: {note}", soft_wrap=True, markup=False)
    if problems:
        console.print("[bold red]STORE DISAGREES[/]", markup=True)
        for problem in problems:
            console.print(f"  - {problem}", soft_wrap=True, markup=False)
        sys.exit(1)
    console.print(f"[bold green]STORE AGREES[/]: none of the {len(certs.key_ids(cert))} keys and no vault entry "
                  f"of {escape(str(cert['contract']))} exists", markup=True, soft_wrap=True)


def _invalid(file: Path, why: str) -> None:
    console.print(f"[bold red]NOT VALID[/] {escape(str(file))}: {escape(why)}", markup=True, soft_wrap=True)
    sys.exit(1)


def _check_signature(file: Path, cert: dict[str, Any], keys: Any) -> None:
    try:
        certs.verify(cert, keys)
    except certs.CertificateInvalid:
        _invalid(file, "the signature does not verify with the given key(s), or the certificate is malformed")
    destroyed = cert["destroyed"]
    head = cert["audit_head"]
    console.print(f"[bold green]VALID[/] {escape(str(file))}: signed by audit key {escape(str(cert['key_id']))}",
                  markup=True, soft_wrap=True)
    console.print(f"  contract {cert['contract']} ({cert.get('vendor')}), terminated {cert['time']}; "
                  f"{len(destroyed.get('keys', []))} keys and {destroyed.get('records', {}).get('vault', 0)} vault "
                  f"entries destroyed; audit head {head.get('seq')} {head.get('hash')}", soft_wrap=True, markup=False)


if __name__ == "__main__":  # `python -m gateway.cli.contract`, before the group is registered in `aduana`
    command()
