"""``aduana serve``: run the gateway."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import click
from aiohttp import web

from gateway import oplog
from gateway.cli.common import config_option, handle_errors, load
from gateway.runtime import open_runtime


@click.command("serve")
@config_option
@click.option("--check-only", is_flag=True, help="Open the store and keys, compile policies, then exit.")
@handle_errors
def command(config_path: Path, check_only: bool) -> None:
    """Run the gateway: the vendor listener and the admin listener (health, readiness, metrics).

    Refuses to start, touching nothing, when the config is invalid, the master key is missing or
    wrong, or the store's schema is behind (run `aduana store migrate`).
    """
    config = load(config_path)
    oplog.configure(config.logging.level, config.resolve(config.logging.file) if config.logging.file else None)
    runtime = open_runtime(config)
    from gateway.server.app import init_admin_app, init_app

    try:
        app = init_app(runtime)
        if check_only:
            click.echo("ok: store, keys and policies are ready")
            return
        asyncio.run(_serve(app, init_admin_app(app), config.listeners))
    finally:
        runtime.close()


async def _serve(app: web.Application, admin: web.Application, listeners: object) -> None:
    from gateway.config import Listeners

    assert isinstance(listeners, Listeners)
    log = oplog.get_logger()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    admin_runner = web.AppRunner(admin, access_log=None, handle_signals=False)
    await runner.setup()
    await admin_runner.setup()
    try:
        await web.TCPSite(runner, listeners.vendor.host, listeners.vendor.port).start()
        await web.TCPSite(admin_runner, listeners.admin.host, listeners.admin.port).start()
        log.info("listening", vendor=f"{listeners.vendor.host}:{listeners.vendor.port}",
                 admin=f"{listeners.admin.host}:{listeners.admin.port}")
        await stop.wait()
        log.info("shutting_down")
    finally:
        await admin_runner.cleanup()
        await runner.cleanup()
