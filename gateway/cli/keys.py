"""``aduana keys``: the master key and the contracts' data keys (see docs/keys-and-storage.md)."""

from __future__ import annotations

import getpass
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from gateway.audit import AuditEvent, AuditLog
from gateway.audit.checkpoint import AUDIT_CONTRACT, AUDIT_PURPOSE, key_id
from gateway.audit.log import plugin_sink
from gateway.audit.record import Decision
from gateway.cli.common import config_option, console, err_console, fail, handle_errors, load, runtime
from gateway.credentials import CREDENTIALS_CONTRACT, Credentials
from gateway.errors import ConfigError
from gateway.keys import rotation
from gateway.keys.keyring import DATA, TOKEN
from gateway.keys.provider import KeyProvider, init_key_file
from gateway.keys.status import format_age, key_status
from gateway.runtime import Runtime
from gateway.vault import VAULT, Vault

#: Every table whose rows are sealed under a contract's data key (re-encrypted by ``keys rotate``).
SEALED_TABLES = (VAULT,)


@click.group("keys")
def command() -> None:
    """Create, inspect and rotate encryption keys."""


def _audit(rt: Runtime, action: str, contract: str | None, details: dict[str, Any], *,
           decision: Decision = "done", reason: str = "ok") -> None:
    AuditLog(rt.db, rt.keyring, sink=plugin_sink(rt.plugins)).append(AuditEvent(
        kind="admin", action=action, request_id=uuid.uuid4().hex, contract=contract,
        vendor=rt.config.contracts[contract].vendor if contract in rt.config.contracts else None,
        decision=decision, reason=reason, actor=f"cli:{getpass.getuser()}", details=details,
    ))


@command.command("init")
@config_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the key (default: the file named by keys.master_key in the config).")
@handle_errors
def init(config_path: Path, out: Path | None) -> None:
    """Create a new random master key file (mode 0600). Refuses to overwrite an existing file."""
    if out is None:
        config = load(config_path)
        scheme, _, rest = config.keys.master_key.partition(":")
        if scheme != "file":
            raise ConfigError(f"keys.master_key is {scheme}:…, not a file: pass --out PATH")
        out = config.resolve(rest)
    init_key_file(out)
    console.print(f"created master key {out} (mode 0600). Back it up: without it the vault cannot be read.",
                  soft_wrap=True)


def _protected_counts(rt: Runtime) -> dict[tuple[str, str, int], int]:
    """How many stored records each key protects, by (contract, purpose, version)."""
    counts: dict[tuple[str, str, int], int] = {}
    by_version = Vault(rt.db, rt.keyring).count_by_version()
    for (contract, version), n in by_version.items():
        counts[(contract, DATA, version)] = n
    with rt.db.transaction() as tx:
        for contract, n in tx.fetchall("SELECT contract, COUNT(*) FROM vault GROUP BY contract"):
            counts[(str(contract), TOKEN, 1)] = int(n)  # every token and blind index of the contract
        (credentials,) = tx.fetchone("SELECT COUNT(*) FROM credentials") or (0,)
        checkpoints = {str(k): int(n) for k, n in
                       tx.fetchall("SELECT key_id, COUNT(*) FROM audit_checkpoints GROUP BY key_id")}
    counts[(CREDENTIALS_CONTRACT, "hmac", 1)] = int(credentials)
    for info in key_status(rt.db).keys:
        if info.contract == AUDIT_CONTRACT and info.purpose == AUDIT_PURPOSE:
            seed = rt.keyring.version(AUDIT_CONTRACT, info.version, AUDIT_PURPOSE)
            public_id = key_id(Ed25519PrivateKey.from_private_bytes(seed).public_key())
            counts[(info.contract, info.purpose, info.version)] = checkpoints.get(public_id, 0)
    return counts


@command.command("status")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_errors
def status(config_path: Path, as_json: bool) -> None:
    """Show every key: id, version, state, the master key wrapping it, its age and the records it protects.

    Only ids and counts are shown, never a key.
    """
    with runtime(config_path) as rt:
        report = key_status(rt.db)
        counts = _protected_counts(rt)
    now = datetime.now(UTC)
    rows = [
        {
            "contract": k.contract, "purpose": k.purpose, "version": k.version, "key_id": k.key_id,
            "state": "current" if k.current and k.status == "active" else k.status,
            "master_key_id": k.master_key_id, "created_at": k.created_at.isoformat(),
            "age_seconds": int(k.age(now).total_seconds()),
            "records": counts.get((k.contract, k.purpose, k.version), 0),
        }
        for k in report.keys
    ]
    if as_json:
        click.echo(json.dumps({"master_key_id": report.master_key_id, "master_rotated_at": report.master_rotated_at,
                               "unfinished_rotations": report.rotations, "keys": rows}, indent=2))
        return
    console.print(f"master key id: {report.master_key_id or '(no keys yet)'}"
                  + (f" (rotated {report.master_rotated_at[:19]})" if report.master_rotated_at else ""), soft_wrap=True)
    table = Table("contract", "purpose", "version", "state", "key id", "age", "records")
    for r, k in zip(rows, report.keys, strict=True):
        table.add_row(k.contract, k.purpose, f"v{k.version}", str(r["state"]), k.key_id, format_age(k.age(now)),
                      str(r["records"]))
    console.print(table)
    for contract, version in sorted(report.rotations.items()):
        console.print(f"[yellow]unfinished rotation[/] of {contract} to v{version}: "
                      f"run `aduana keys rotate {contract}`",
                      soft_wrap=True)


@contextmanager
def _progress(total: int, label: str) -> Iterator[Progress]:
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=False) as progress:
        progress.add_task(label, total=total)
        yield progress


@command.command("rotate")
@click.argument("contract")
@config_option
@click.option("--batch-size", default=rotation.BATCH, show_default=True, type=click.IntRange(1, 100_000),
              help="Records re-encrypted per transaction.")
@handle_errors
def rotate(contract: str, config_path: Path, batch_size: int) -> None:
    """Start a new data key version for CONTRACT and re-encrypt its old records to it, in batches.

    New writes use the new version at once (running gateways within a few seconds). Safe to interrupt:
    run it again to resume. Token keys never rotate (a value must keep its token).
    """
    with runtime(config_path) as rt:
        known = {k.contract for k in key_status(rt.db).keys}
        if contract not in rt.config.contracts and contract not in known:
            fail(f"no contract {contract!r} in {config_path} or in the store", 2)
        job = rotation.begin(rt.keyring, contract)
        verb = "resuming the unfinished rotation" if job.resumed else "started"
        err_console.print(f"{verb}: {contract} data key v{job.version} is now used for new writes", soft_wrap=True)
        total = rotation.remaining(rt.keyring, job, SEALED_TABLES)
        with _progress(total, f"re-encrypting {contract} to v{job.version}") as progress:
            def advance(n: int) -> None:
                progress.advance(progress.task_ids[0], n)

            def wait(seconds: float) -> None:
                progress.update(progress.task_ids[0], description=f"letting running gateways switch ({seconds:.0f}s)")
                time.sleep(seconds)

            result = rotation.reencrypt(rt.keyring, job, SEALED_TABLES, batch=batch_size, progress=advance,
                                        settle=rotation.SETTLE_SECONDS, sleep=wait)
        details = {"version": job.version, "resumed": job.resumed, "reencrypted": result.reencrypted,
                   "failed": result.failed, "finished": result.finished}
        _audit(rt, "keys.rotate", contract, details, decision="done" if result.finished else "failed",
               reason="ok" if result.finished else ("record_integrity" if result.failed else "unfinished"))
    if result.failed:
        fail(f"{result.failed} records of {contract} failed their integrity check and were left under their old key "
             "version (audited); the rotation is unfinished. See docs/keys-and-storage.md, 'Damaged records'.")
    if not result.finished:
        fail(f"new records under an old version appeared during the last sweep: run `aduana keys rotate {contract}` "
             "again to finish")
    console.print(f"rotated {contract}: {result.reencrypted} records re-encrypted to v{job.version}; older versions "
                  "are retired", soft_wrap=True)


def _new_provider(rt: Runtime, source: str) -> KeyProvider:
    scheme, _, rest = source.partition(":")
    if not rest:
        raise ConfigError("--new-source: expected SCHEME:VALUE, e.g. file:new.key or env:ADUANA_NEW_MASTER_KEY")
    if scheme == "file":
        source = "file:" + str(Path(rest).expanduser().resolve())
    provider = rt.plugins.key_provider(source)
    if provider is None:
        raise ConfigError(f"--new-source: no key provider handles {scheme!r} (built in: file:, env:)")
    return provider


@command.command("rotate-master")
@config_option
@click.option("--new-source", required=True,
              help="Where the new master key is: file:PATH (made by `aduana keys init --out PATH`) or env:VARIABLE.")
@handle_errors
def rotate_master(config_path: Path, new_source: str) -> None:
    """Re-wrap every data key under a new master key. Values are not re-encrypted.

    Safe while gateways run: they keep serving from the keys they hold. Afterwards point
    keys.master_key at the new key and restart them.
    """
    with runtime(config_path) as rt:
        provider = _new_provider(rt, new_source)
        new_master = provider.master_key()
        # Keys that exist only implicitly (the vendor-key hashing key) must exist before the old master goes.
        Credentials(rt.db, rt.keyring).ensure_key()
        old_id = rt.keyring.master_key_id
        count = rt.keyring.rotate_master(new_master)
        _audit(rt, "keys.rotate-master", None,
               {"keys": count, "old_master_key_id": old_id, "new_master_key_id": rt.keyring.master_key_id})
    console.print(f"re-wrapped {count} keys: master key {old_id} -> {rt.keyring.master_key_id} ({provider.describe()})",
                  soft_wrap=True)
    scheme = new_source.partition(":")[0]
    where = f"keys.master_key: {new_source}" if scheme != "file" else f"keys.master_key: file:{new_source[5:]}"
    console.print("Now:\n"
                  f"  1. set `{where}` in {config_path} (or put the new key where keys.master_key points);\n"
                  "  2. restart every gateway: running ones keep serving, but cannot create keys for new contracts\n"
                  "     until they hold the new master key;\n"
                  "  3. keep the old master key only as long as backups wrapped by it must stay readable,\n"
                  "     then destroy it.",
                  soft_wrap=True)
