"""The ``aduana`` command."""

from __future__ import annotations

import click

from gateway import __version__, oplog


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="aduana")
def main() -> None:
    """Aduana: the checkpoint every byte crosses between your support systems and an outsourced vendor.

    Start with `aduana config check FILE`, `aduana keys init`, `aduana store migrate` and
    `aduana serve`. Every command takes --help.
    """
    # Commands report to the terminal themselves; only warnings from the library reach stderr as JSON.
    # (`aduana serve` reconfigures logging from its config file.)
    oplog.configure("warning")


def _register() -> None:
    from gateway.cli import (
        admin,
        audit,
        config_cmd,
        contract,
        handover,
        keys,
        plugins,
        policy,
        serve,
        store,
        sweep,
        vendor,
    )

    for module in (admin, audit, config_cmd, contract, handover, keys, plugins, policy, serve, store, sweep, vendor):
        main.add_command(module.command)


_register()
