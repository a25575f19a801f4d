"""``aduana handover``: the company's side of a contract handover — make a key pair, open a bundle.

Neither command needs a config, a store or the master key: the company runs them on its own machine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import IO

import click
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from gateway.cli.common import err_console, fail, handle_errors
from gateway.lifecycle.handover import (
    HandoverError,
    bundle_header,
    fingerprint,
    generate_rsa,
    generate_x25519,
    load_private_key,
    load_recipient,
    open_bundle,
)

PrivateKey = X25519PrivateKey | RSAPrivateKey


def _create(path: Path, data: bytes, mode: int) -> None:
    """Write a new file with ``mode``; never overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        fail(f"{path} exists: refusing to overwrite it")
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


@click.group("handover")
def command() -> None:
    """Read a terminated contract's tokens back: the company's key pair and the handover bundle.

    `aduana contract terminate … --handover-to PUBLIC.pem --handover-out BUNDLE` writes the bundle;
    whoever holds PRIVATE.pem opens it with `aduana handover open`.
    """


@command.command("keygen")
@click.option("--private-out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the private key (PEM, mode 0600). Keep it off the gateway's machines.")
@click.option("--public-out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the public key (PEM) to give to `contract terminate --handover-to`.")
@click.option("--rsa", "rsa_bits", type=click.Choice(["3072", "4096"]), default=None,
              help="Make an RSA key of this size instead of X25519 (the default).")
@handle_errors
def keygen(private_out: Path, public_out: Path, rsa_bits: str | None) -> None:
    """Make the company's key pair for handover bundles (X25519 unless --rsa)."""
    private, public = generate_rsa(int(rsa_bits)) if rsa_bits else generate_x25519()
    _create(private_out, private, 0o600)
    _create(public_out, public, 0o644)
    err_console.print(f"wrote {private_out} (private: keep it safe, off the gateway) and {public_out} "
                      f"(public, fingerprint {fingerprint(load_recipient(public))})", soft_wrap=True, markup=False)


@command.command("open")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--private-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The company's private key (PEM) the bundle was made for.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the token→value table here (JSON lines, mode 0600) instead of standard output.")
@handle_errors
def open_cmd(bundle: Path, private_key: Path, out: Path | None) -> None:
    """Decrypt a handover BUNDLE and write its token→value table as JSON lines.

    The output is personal data in the clear: write it only where such data may be kept.
    """
    pem = private_key.read_bytes()
    try:
        key = load_private_key(pem)
    except TypeError:  # an encrypted PEM
        key = load_private_key(pem, click.prompt("passphrase of the private key", hide_input=True).encode())
    with bundle.open("rb") as fh:
        header = bundle_header(fh)
    err_console.print(f"bundle of contract {header.get('contract')} ({header.get('vendor')}), written "
                      f"{header.get('created_at')} for key {header.get('recipient')}", soft_wrap=True, markup=False)
    err_console.print("[bold yellow]warning:[/] the output holds personal data in the clear", markup=True)
    if out is None:
        count = _write(bundle, key, sys.stdout.buffer)
    else:
        partial = out.with_name(out.name + ".partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            fail(f"{partial} exists: remove it (a previous run stopped) and try again")
            return
        if out.exists():
            os.close(fd)
            partial.unlink()
            fail(f"{out} exists: refusing to overwrite it")
        try:
            with os.fdopen(fd, "wb") as fh:
                count = _write(bundle, key, fh)
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)  # never leave part of a table that failed to verify
            raise
    err_console.print(f"{count} entries", soft_wrap=True, markup=False)


def _write(bundle: Path, key: PrivateKey, sink: IO[bytes]) -> int:
    count = 0
    try:
        with bundle.open("rb") as fh:
            for entry in open_bundle(fh, key):
                sink.write(json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
                count += 1
    except HandoverError:
        err_console.print("[bold red]error:[/] the bundle cannot be opened with this key: wrong key, or the "
                          "bundle is damaged or truncated (any output so far is incomplete)", markup=True)
        raise SystemExit(1) from None
    return count


if __name__ == "__main__":  # `python -m gateway.cli.handover`, before the group is registered in `aduana`
    command()
