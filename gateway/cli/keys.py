"""``aduana keys``: the master key and the contracts' data keys."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import config_option, console, handle_errors, load
from gateway.errors import ConfigError
from gateway.keys.provider import init_key_file


@click.group("keys")
def command() -> None:
    """Create and inspect encryption keys."""


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
    console.print(f"created master key {out} (mode 0600). Back it up: without it the vault cannot be read.")
