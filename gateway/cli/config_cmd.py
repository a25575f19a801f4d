"""``aduana config check``: validate a config file and the policies it names, without starting."""

from __future__ import annotations

from pathlib import Path

import click

from gateway.cli.common import console, handle_errors, load
from gateway.pluginmanager import load_plugins
from gateway.policy.compile import compile_policies


@click.group("config")
def command() -> None:
    """Inspect and validate configuration files."""


@command.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def check(file: Path) -> None:
    """Validate FILE and every policy pack its contracts use; exit 2 on the first problem.

    Checks the YAML, every field against the schema, that each named policy pack exists and is valid,
    and that every action and entity type the packs use is provided by a loaded plugin. Nothing is
    started and no store or key is opened.
    """
    config = load(file)
    plugins = load_plugins(config.plugins)
    policies = compile_policies(config, plugins)
    routes = sum(len(c.routes) for c in config.contracts.values())
    console.print(f"[green]ok[/]: {file}: {len(config.contracts)} contract(s), {routes} route(s), "
                  f"{len({p.packs for p in policies.values()})} distinct effective policies")
