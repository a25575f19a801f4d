"""``aduana serve``: run the gateway, in one process or as N worker processes sharing its ports.

With ``--workers N`` a small supervisor checks everything once (config, keys, schema, policies), then
spawns N gateway processes that each bind the vendor and admin ports with ``SO_REUSEPORT`` (the kernel
spreads connections over them). The supervisor forwards SIGTERM/SIGINT, restarts nothing, logs a worker
that dies, and exits non-zero when every worker died without being asked to stop. Scaling past one
host is the same gateway on several hosts behind a load balancer, sharing one PostgreSQL store.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import multiprocessing.connection
import os
import signal
import ssl
import sys
from pathlib import Path
from types import FrameType

import click
from aiohttp import web

from gateway import oplog
from gateway.cli.common import config_option, handle_errors, load
from gateway.config import Config, Listeners
from gateway.errors import AduanaError, ConfigError
from gateway.runtime import open_runtime
from gateway.server.protocol import GatewayRunner
from gateway.server.tls import server_context


@click.command("serve")
@config_option
@click.option("--check-only", is_flag=True, help="Open the store and keys, compile policies, then exit.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Gateway processes sharing the vendor and admin ports (SO_REUSEPORT; needs fixed ports).")
@handle_errors
def command(config_path: Path, check_only: bool, workers: int) -> None:
    """Run the gateway: the vendor listener and the admin listener (health, readiness, metrics).

    Refuses to start, touching nothing, when the config is invalid, the master key is missing or
    wrong, the vendor listener's TLS files are missing or do not match, or the store's schema is behind
    (run `aduana store migrate`).
    """
    config = load(config_path)
    _configure_logging(config)
    tls = _vendor_tls(config)  # before anything opens: a bad certificate stops start-up here
    runtime = open_runtime(config)
    from gateway.server.app import init_admin_app, init_app

    try:
        app = init_app(runtime)  # compiles every policy: a bad one stops start-up here, once
        if check_only:
            click.echo("ok: store, keys, policies" + (" and TLS" if tls else "") + " are ready")
            return
        if workers == 1:
            asyncio.run(_serve(app, init_admin_app(app), config.listeners, tls, reuse_port=False))
            return
    finally:
        runtime.close()
    if 0 in (config.listeners.vendor.port, config.listeners.admin.port):
        raise ConfigError("--workers N needs fixed listener ports (port 0 would give each worker its own)")
    sys.exit(supervise(config_path, workers))


def _configure_logging(config: Config) -> None:
    oplog.configure(config.logging.level, config.resolve(config.logging.file) if config.logging.file else None)


def _vendor_tls(config: Config) -> ssl.SSLContext | None:
    """The vendor listener's TLS context, or ``None`` for plain HTTP (each worker builds its own)."""
    tls = config.listeners.vendor.tls
    return server_context(tls, config.resolve) if tls is not None else None


async def _serve(app: web.Application, admin: web.Application, listeners: Listeners,
                 tls: ssl.SSLContext | None, *, reuse_port: bool) -> None:
    log = oplog.get_logger()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # GatewayRunner: requests aiohttp's parser refuses get the gateway's JSON error and an audit record.
    runner = GatewayRunner(app, access_log=None, handle_signals=False)
    admin_runner = web.AppRunner(admin, access_log=None, handle_signals=False)
    await runner.setup()
    await admin_runner.setup()
    # Everything loaded so far (plugins, recognizers' word lists, compiled policies) lives as long as the
    # process: move it out of the collector's reach, as the inspection workers do. Otherwise each full
    # collection walks it all, ~110 ms with the event loop stopped (measured in docs/performance.md).
    gc.freeze()
    reuse = True if reuse_port else None
    try:
        await web.TCPSite(runner, listeners.vendor.host, listeners.vendor.port, ssl_context=tls,
                          reuse_port=reuse).start()
        await web.TCPSite(admin_runner, listeners.admin.host, listeners.admin.port, reuse_port=reuse).start()
        log.info("listening", vendor=f"{'https' if tls else 'http'}://{listeners.vendor.host}:{listeners.vendor.port}",
                 client_certificates=_client_cert_mode(listeners),
                 admin=f"{listeners.admin.host}:{listeners.admin.port}", pid=os.getpid())
        await stop.wait()
        log.info("shutting_down", pid=os.getpid())
    finally:
        await admin_runner.cleanup()
        await runner.cleanup()


def _worker(config_path: str, index: int) -> None:
    """One gateway process of ``--workers N`` (runs in a spawned interpreter)."""
    try:
        config = load(Path(config_path))
        _configure_logging(config)
        tls = _vendor_tls(config)
        runtime = open_runtime(config)
    except AduanaError as exc:
        print(f"error: worker {index}: {exc}", file=sys.stderr)
        sys.exit(2 if isinstance(exc, ConfigError) else 1)
    from gateway.server.app import init_admin_app, init_app

    try:
        app = init_app(runtime)
        asyncio.run(_serve(app, init_admin_app(app), config.listeners, tls, reuse_port=True))
    finally:
        runtime.close()


def _client_cert_mode(listeners: Listeners) -> str:
    tls = listeners.vendor.tls
    if tls is None or tls.client_ca_file is None:
        return "none"
    return "required" if tls.require_client_cert else "optional"


def supervise(config_path: Path, workers: int) -> int:
    """Run ``workers`` gateway processes until they stop; return the exit status (rules in the module doc)."""
    log = oplog.get_logger(role="supervisor")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(config_path), i), name=f"aduana-worker-{i}")
             for i in range(workers)]
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.pid is not None and p.exitcode is None:
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for p in procs:
            p.start()
        if stopping:  # a signal arrived while the workers were starting
            forward(signal.SIGTERM, None)
        log.info("workers_started", pids=[p.pid for p in procs], supervisor=os.getpid())
        alive = list(procs)
        stopped: list[multiprocessing.process.BaseProcess] = []
        while alive:
            multiprocessing.connection.wait([p.sentinel for p in alive], timeout=1.0)
            for p in [p for p in alive if not p.is_alive()]:
                alive.remove(p)
                p.join()
                if stopping:
                    stopped.append(p)
                    log.info("worker_stopped", pid=p.pid, exitcode=p.exitcode)
                else:
                    log.error("worker_died", pid=p.pid, exitcode=p.exitcode, left=len(alive),
                              note="not restarted")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not stopping:
        log.error("all_workers_died")
        return 1
    # Asked to stop: clean if every worker still running then shut down cleanly (deaths were logged).
    return 0 if all(p.exitcode in (0, -signal.SIGTERM) for p in stopped) else 1
