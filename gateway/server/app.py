"""The aiohttp applications: the vendor listener (the proxy) and the admin listener (health, metrics).

``init_app(runtime)`` builds the vendor application; its long-lived resources (inspection workers, the
one upstream ``ClientSession``, the audit log and its checkpoint task, the store thread pool) are opened
and closed in a ``cleanup_ctx`` generator. ``init_admin_app(vendor_app)`` serves ``/healthz``, ``/readyz``
and ``/metrics`` from the same process state on its own (loopback by default) listener.

The vendor application is served by ``protocol.GatewayRunner`` (and starts under no other runner), so
requests aiohttp refuses before routing them get the pipeline's JSON error and an audit record.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.audit import AuditLog
from gateway.audit.log import plugin_sink
from gateway.credentials import Credentials
from gateway.errors import StoreError
from gateway.inspect.inspector import Inspector
from gateway.inspect.pool import Detector
from gateway.lifecycle import rules
from gateway.lifecycle.state import KEY_EVICTION_SECONDS, forget_ended_keys
from gateway.lifecycle.sweeper import Sweeper, run_periodically
from gateway.metrics import Metrics
from gateway.oplog import get_logger
from gateway.policy.compile import compile_policies
from gateway.policy.merge import EffectivePolicy
from gateway.proxy.pipeline import Pipeline
from gateway.runtime import Runtime
from gateway.server import protocol
from gateway.server.admin_api import add_admin_api
from gateway.vault import Vault

#: How often the audit head is signed while serving (and once more at shutdown).
CHECKPOINT_INTERVAL_SECONDS = 300.0


@dataclass
class GatewayState:
    runtime: Runtime
    metrics: Metrics = field(default_factory=Metrics)
    detector: Detector | None = None
    pipeline: Pipeline | None = None
    audit: AuditLog | None = None
    store_executor: ThreadPoolExecutor | None = None


STATE = web.AppKey("aduana_state", GatewayState)


def init_app(runtime: Runtime, *, checkpoint_interval: float = CHECKPOINT_INTERVAL_SECONDS) -> web.Application:
    """Build the vendor-facing application for an opened runtime."""
    config = runtime.config
    # Compile policies before anything starts: a bad policy must stop start-up, not a request.
    policies = compile_policies(config, runtime.plugins)
    state = GatewayState(runtime=runtime)
    app = web.Application(client_max_size=config.inspection.max_body_bytes + 1, middlewares=[_unrouted])

    async def refuse(status: int, request_id: str) -> web.StreamResponse:
        # aiohttp refused this request before routing it (gateway/server/protocol.py): record and answer it.
        if state.pipeline is None:
            raise RuntimeError("the vendor application is not started")
        return await state.pipeline.refuse_malformed(status, request_id)

    protocol.install(app, refuse)  # before the resources: under a wrong runner, nothing opens
    # The audit log opens nothing until used; the admin API needs it before the vendor app starts.
    state.audit = AuditLog(runtime.db, runtime.keyring, sink=plugin_sink(runtime.plugins))
    app[STATE] = state
    log = get_logger()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        store_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aduana-store")
        detector = Detector(config.plugins, workers=config.inspection.workers,
                            timeout=config.inspection.timeout_seconds,
                            queue_timeout=config.inspection.queue_seconds)
        await detector.start()
        unwatch = state.metrics.watch_inspection_pool(detector.stats)
        connector = aiohttp.TCPConnector(limit=100, limit_per_host=50, enable_cleanup_closed=True)
        session = aiohttp.ClientSession(connector=connector, auto_decompress=False, trust_env=False)
        audit = state.audit
        assert audit is not None
        vault = Vault(runtime.db, runtime.keyring)
        inspector = Inspector(runtime.plugins.content_handlers(), runtime.plugins.actions(), detector, vault,
                              store_executor)
        state.detector, state.store_executor = detector, store_executor
        credentials = Credentials(runtime.db, runtime.keyring)
        state.pipeline = Pipeline(config, runtime.plugins, policies, inspector, credentials, audit, session,
                                  store_executor, state.metrics)
        checkpoints = asyncio.create_task(_checkpoint_loop(audit, store_executor, checkpoint_interval))
        sweeper = _start_sweeper(runtime, audit, policies, store_executor)
        evictor = asyncio.create_task(_key_eviction_loop(runtime, store_executor))
        log.info("gateway_ready", contracts=sorted(config.contracts), workers=config.inspection.workers)
        try:
            yield
        finally:
            for task in (checkpoints, sweeper, evictor):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            try:
                await asyncio.get_running_loop().run_in_executor(store_executor, audit.checkpoint)
            except Exception as exc:
                log.error("final_checkpoint_failed", error=type(exc).__name__)
            await session.close()
            await detector.close()
            unwatch()
            store_executor.shutdown(wait=True)

    app.cleanup_ctx.append(resources)

    async def proxy(request: web.Request) -> web.StreamResponse:
        pipeline = request.app[STATE].pipeline
        assert pipeline is not None  # set before the app serves
        return await pipeline.handle(request)

    app.router.add_route("*", "/{tail:.*}", proxy, expect_handler=protocol.expect_handler)
    return app


@web.middleware
async def _unrouted(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Send a target aiohttp's router cannot match (``OPTIONS *``, CONNECT's ``host:port``) to the pipeline.

    aiohttp would answer it with its plain-text 404; the pipeline answers 401 or 404 ``no_route``, audited.
    """
    if request.match_info.http_exception is not None:
        pipeline = request.app[STATE].pipeline
        assert pipeline is not None  # set before the app serves
        return await pipeline.handle(request)
    return await handler(request)


async def _checkpoint_loop(audit: AuditLog, executor: ThreadPoolExecutor, interval: float) -> None:
    log = get_logger()
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        try:
            await loop.run_in_executor(executor, audit.checkpoint)
        except Exception as exc:  # a failed checkpoint is retried next interval; requests go on
            log.error("checkpoint_failed", error=type(exc).__name__)


async def _key_eviction_loop(runtime: Runtime, executor: ThreadPoolExecutor) -> None:
    """Every few seconds, drop the in-memory keys of contracts whose termination has started."""
    log = get_logger()
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(KEY_EVICTION_SECONDS)
        try:
            forgotten = await loop.run_in_executor(executor, forget_ended_keys, runtime.db, runtime.keyring)
        except Exception as exc:  # retried next interval; requests of ended contracts are refused anyway
            log.error("key_eviction_failed", error=type(exc).__name__)
            continue
        if forgotten:
            log.info("contract_keys_forgotten", contracts=forgotten)


def _start_sweeper(runtime: Runtime, audit: AuditLog, policies: dict[tuple[str, str], EffectivePolicy],
                   executor: ThreadPoolExecutor) -> asyncio.Task[None] | None:
    """The retention sweeper, every ``lifecycle.sweep_interval_seconds`` on the store pool (0: none)."""
    interval = runtime.config.lifecycle.sweep_interval_seconds
    if interval <= 0:
        return None
    contract_policies = rules.from_compiled(runtime.config, policies)

    def make() -> Sweeper:
        return Sweeper(audit, contract_policies, runtime.plugins, actor="gateway")

    return asyncio.create_task(run_periodically(make, executor, interval))


def init_admin_app(vendor_app: web.Application) -> web.Application:
    """Health, readiness and metrics of the process serving ``vendor_app``."""
    state = vendor_app[STATE]
    app = web.Application()

    async def healthz(request: web.Request) -> web.Response:
        # The pid tells `aduana serve --workers N` processes apart (they share one port).
        return web.json_response({"status": "alive", "pid": os.getpid()})

    async def readyz(request: web.Request) -> web.Response:
        checks = {"analyzer": bool(state.detector and state.detector.ready), "keys": True, "store": True}
        try:
            def probe() -> None:
                with state.runtime.db.transaction() as tx:
                    tx.fetchone("SELECT 1")
                # probe, not check: a gateway whose master was rotated under it keeps serving.
                if not state.runtime.keyring.probe():
                    raise RuntimeError("keys unavailable")

            if state.store_executor is None:
                raise RuntimeError("not started")
            await asyncio.get_running_loop().run_in_executor(state.store_executor, probe)
        except Exception:
            checks["store"] = checks["keys"] = False
        ok = all(checks.values())
        return web.json_response({"ready": ok, "checks": checks}, status=200 if ok else 503)

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(state.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def on_store(fn: Callable[..., Any], *args: Any) -> Any:
        if state.store_executor is None:
            raise StoreError("the gateway is not started")
        return await asyncio.get_running_loop().run_in_executor(state.store_executor, fn, *args)

    assert state.audit is not None
    add_admin_api(app, state.runtime, state.audit, on_store)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
