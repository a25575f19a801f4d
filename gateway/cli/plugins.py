"""``aduana plugins``: which plugins a gateway would load, where they come from and what they implement."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.cli.common import handle_errors
from gateway.pluginmanager import PluginInfo, load_plugins


@click.group("plugins")
def command() -> None:
    """List the plugins Aduana loads (see docs/plugins.md to write one)."""


@command.command("list")
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
    envvar="ADUANA_CONFIG",
    help="Also load the plugin modules this gateway config names (or $ADUANA_CONFIG). Optional.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plugins as JSON.")
@handle_errors
def list_(config_path: Path | None, as_json: bool) -> None:
    """Show every plugin: its name, version, source and the hooks it implements.

    Sources: `built-in` (shipped with Aduana), `entry point (DISTRIBUTION)` (an installed package that
    declares the `aduana` entry point) and `config` (a module named in the config's `plugins` list).
    Without --config, built-ins and entry points are listed. A plugin that cannot be loaded is an
    error (exit 2), exactly as it would stop the gateway.
    """
    modules: tuple[str, ...] = ()
    if config_path is not None:
        from gateway.config import load_config

        modules = load_config(config_path).plugins
    infos = load_plugins(modules).list()
    if as_json:
        click.echo(json.dumps([_as_dict(i) for i in infos], indent=2))
        return
    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = 160  # a pipe or a file: do not cut the table to 80 columns
    table = Table("name", "version", "source", "hooks", title=f"{len(infos)} plugins", title_justify="left")
    for info in infos:
        hooks = "\n".join(info.hooks) or "-"
        table.add_row(escape(info.name), escape(info.version or "-"), escape(info.source), escape(hooks))
    out.print(table)


def _as_dict(info: PluginInfo) -> dict[str, object]:
    return {"name": info.name, "version": info.version, "source": info.source, "module": info.module,
            "hooks": list(info.hooks)}
