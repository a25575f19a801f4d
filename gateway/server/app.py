"""The aiohttp applications: the vendor listener (the proxy) and the admin listener (health, metrics).

``init_app(runtime)`` builds the vendor application; its long-lived resources (inspection workers, the
one upstream ``ClientSession``, the audit log and its checkpoint task, the store thread pool) are opened
and closed in a ``cleanup_ctx`` generator. ``init_admin_app(vendor_app)`` serves ``/healthz``, ``/readyz``
and ``/metrics`` from the same process state on its own (loopback by default) listener.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.audit import AuditLog
from gateway.audit.log import plugin_sink
from gateway.credentials import Credentials
from gateway.inspect.detect import Detector
from gateway.inspect.inspector import Inspector
from gateway.metrics import Metrics
from gateway.oplog import get_logger
from gateway.policy.compile import compile_policies
from gateway.proxy.pipeline import Pipeline
from gateway.runtime import Runtime, key_provider
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
    app = web.Application(client_max_size=config.inspection.max_body_bytes + 1)
    state = GatewayState(runtime=runtime)
    app[STATE] = state
    log = get_logger()

    async def resources(app: web.Application) -> AsyncIterator[None]:
        store_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aduana-store")
        detector = Detector(config.plugins, workers=config.inspection.workers,
                            timeout=config.inspection.timeout_seconds)
        await detector.start()
        connector = aiohttp.TCPConnector(limit=100, limit_per_host=50, enable_cleanup_closed=True)
        session = aiohttp.ClientSession(connector=connector, auto_decompress=False, trust_env=False)
        audit = AuditLog(runtime.db, runtime.keyring, sink=plugin_sink(runtime.plugins))
        master = key_provider(config, runtime.plugins).master_key()
        vault = Vault(runtime.db, runtime.keyring)
        inspector = Inspector(runtime.plugins.content_handlers(), runtime.plugins.actions(), detector, vault,
                              store_executor)
        state.detector, state.audit, state.store_executor = detector, audit, store_executor
        state.pipeline = Pipeline(config, runtime.plugins, policies, inspector, Credentials(runtime.db, master),
                                  audit, session, store_executor, state.metrics)
        checkpoints = asyncio.create_task(_checkpoint_loop(audit, store_executor, checkpoint_interval))
        log.info("gateway_ready", contracts=sorted(config.contracts), workers=config.inspection.workers)
        try:
            yield
        finally:
            checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checkpoints
            try:
                await asyncio.get_running_loop().run_in_executor(store_executor, audit.checkpoint)
            except Exception as exc:
                log.error("final_checkpoint_failed", error=type(exc).__name__)
            await session.close()
            await detector.close()
            store_executor.shutdown(wait=True)

    app.cleanup_ctx.append(resources)

    async def proxy(request: web.Request) -> web.StreamResponse:
        pipeline = request.app[STATE].pipeline
        assert pipeline is not None  # set before the app serves
        return await pipeline.handle(request)

    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


async def _checkpoint_loop(audit: AuditLog, executor: ThreadPoolExecutor, interval: float) -> None:
    log = get_logger()
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        try:
            await loop.run_in_executor(executor, audit.checkpoint)
        except Exception as exc:  # a failed checkpoint is retried next interval; requests go on
            log.error("checkpoint_failed", error=type(exc).__name__)


def init_admin_app(vendor_app: web.Application) -> web.Application:
    """Health, readiness and metrics of the process serving ``vendor_app``."""
    state = vendor_app[STATE]
    app = web.Application()

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(request: web.Request) -> web.Response:
        checks = {"analyzer": bool(state.detector and state.detector.ready), "keys": True, "store": True}
        try:
            def probe() -> None:
                with state.runtime.db.transaction() as tx:
                    tx.fetchone("SELECT 1")
                state.runtime.keyring.check()

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

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app
