"""Detection off the event loop: a pool of worker processes, each holding one loaded analyzer.

Presidio and spaCy are synchronous and CPU-bound; running them on the event loop would stall every
other request (health checks included). Each worker loads the plugins' recognizers and the spaCy model
once at start. A call that exceeds its time budget fails closed and the pool is replaced, so a hung
worker cannot keep a slot.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from gateway.errors import InspectionError, InspectionTimeout, PluginError
from gateway.inspect.analyzer import Analyzer, DetectRequest, RecognizerFailure
from gateway.inspect.findings import Finding

_WORKER_ANALYZER: Analyzer | None = None


def _init_worker(plugin_modules: tuple[str, ...]) -> None:
    global _WORKER_ANALYZER
    # A worker must not inherit the parent's signal handling for Ctrl-C: the parent shuts it down.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_ANALYZER = Analyzer.from_plugins(plugin_modules)


def _run(requests: Sequence[DetectRequest]) -> list[list[Finding]]:
    if _WORKER_ANALYZER is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("analyzer not loaded in this worker")
    return _WORKER_ANALYZER.analyze(requests)


def _ping() -> int:
    return os.getpid()


class Detector:
    """Runs :class:`Analyzer` in ``workers`` processes with a per-call time budget."""

    def __init__(self, plugin_modules: Sequence[str] = (), *, workers: int = 1, timeout: float = 10.0) -> None:
        self._plugin_modules = tuple(plugin_modules)
        self._workers = workers
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self.ready = False

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._plugin_modules,),
        )

    async def start(self) -> None:
        """Start the workers and wait until each has its analyzer loaded."""
        self._pool = self._new_pool()
        loop = asyncio.get_running_loop()
        # One warm-up call per worker; the initializer runs before any of them returns.
        warm = [DetectRequest("warm up", "en", ("PERSON",), {"PERSON": 0.5})]
        await asyncio.gather(*(loop.run_in_executor(self._pool, _run, warm) for _ in range(self._workers)))
        self.ready = True

    async def detect(self, requests: Sequence[DetectRequest]) -> list[list[Finding]]:
        """Findings for each request, in order; raise InspectionTimeout/InspectionError, never partial."""
        if not requests:
            return []
        if self._pool is None:
            raise InspectionError("detector not started")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, _run, list(requests))
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError as exc:
            self._replace_pool()
            raise InspectionTimeout(f"detection exceeded {self.timeout}s") from exc
        except BrokenProcessPool as exc:
            self._replace_pool()
            raise InspectionError("an inspection worker died") from exc
        except InspectionError:
            raise
        except RecognizerFailure as exc:
            raise PluginError(exc.plugin, "a recognizer raised") from exc
        except Exception as exc:
            # A recognizer raised inside the worker: the message cannot be inspected.
            raise InspectionError(f"detection failed: {type(exc).__name__}") from exc

    def _replace_pool(self) -> None:
        old = self._pool
        self._pool = self._new_pool()
        if old is not None:
            _kill(old)

    async def close(self) -> None:
        if self._pool is not None:
            _kill(self._pool)
            self._pool = None
        self.ready = False


def _kill(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor cannot cancel a running call; terminate its processes so a hung
    # recognizer frees its CPU, then let the executor clean up.
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
