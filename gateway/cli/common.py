"""What every ``aduana`` command shares: the --config option, opening the runtime, error reporting."""

from __future__ import annotations

import functools
import getpass
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from gateway.audit import AuditEvent, AuditLog
from gateway.audit.log import plugin_sink
from gateway.config import Config, load_config
from gateway.errors import AduanaError, ConfigError
from gateway.runtime import Runtime, open_runtime

F = TypeVar("F", bound=Callable[..., Any])

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="aduana.yaml",
    show_default=True,
    envvar="ADUANA_CONFIG",
    help="The gateway's YAML configuration file (or $ADUANA_CONFIG).",
)


def fail(message: str, code: int = 1) -> None:
    """Print an error the way every command does and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn Aduana's errors into a one-paragraph message and an exit status (2: config, 1: other)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc), 2)
        except AduanaError as exc:
            fail(str(exc), 1)

    return wrapper  # type: ignore[return-value]


def audit_action(rt: Runtime, action: str, **fields: Any) -> None:
    """Record an operator's CLI action in the audit trail (actor ``cli:<user>``), before reporting success."""
    AuditLog(rt.db, rt.keyring, sink=plugin_sink(rt.plugins)).append(AuditEvent(
        kind="admin", action=action, request_id=uuid.uuid4().hex, decision="done", reason="ok",
        actor=f"cli:{getpass.getuser()}", **fields,
    ))


def load(config_path: Path) -> Config:
    return load_config(config_path)


@contextmanager
def runtime(config_path: Path, *, check_schema: bool = True) -> Iterator[Runtime]:
    """Open the store and keys for a CLI command and close them after."""
    rt = open_runtime(load_config(config_path), check_schema=check_schema)
    try:
        yield rt
    finally:
        rt.close()
