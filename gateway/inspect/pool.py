"""The inspection workers seen from the gateway: a process pool, a time budget, and batching under load.

Rules this module keeps:

1. Never a partial result: a message gets findings for every one of its texts, or an error.
2. A message's time budget runs only while a worker has it, never while it waits for one. Waiting is
   bounded too (``queue_timeout``): past it the message is refused as busy (503), not timed out.
3. When every worker is busy, messages queue; a worker that frees up takes the queued messages together,
   in arrival order, as one call: at most :data:`BATCH_CHARS` characters of text and
   :data:`BATCH_MESSAGES` messages. One call per batch means one process round trip and one spaCy batch
   for all of them, which is what makes small messages cheap under load. A worker never waits to fill a
   batch: with a free worker, a message is sent alone at once.
4. A batch is bounded by its text, so the budget of one message covers it (a batch is less text than one
   large message). Still, a batch of several messages that overruns the budget is not charged to any of
   them: the pool is replaced (a hung call cannot be cancelled) and each message runs again alone, with
   its own budget. Only a message that overruns alone fails with a timeout.
5. One message cannot fail another: the worker analyzes a batch as a whole and, if that raises, each
   message on its own (:func:`gateway.inspect.detect.run_batch`), so an error belongs to the message
   whose text caused it.
6. A call lost because another call's timeout replaced the pool is run once more; twice, and it fails.

The workers' side (what one call does) is :mod:`gateway.inspect.detect`.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from gateway.errors import AduanaError, InspectionBusy, InspectionError, InspectionTimeout, PluginError
from gateway.inspect.analyzer import DetectRequest, RecognizerFailure
from gateway.inspect.detect import init_worker, run_batch, warm_up
from gateway.inspect.findings import Finding

#: Most characters of text in one batch: about one large ticket's text, a fraction of a second of work.
BATCH_CHARS = 16 * 1024
#: Most messages in one batch. Four already give most of the gain (a spaCy batch of four small messages
#: costs about what one of eight does per message); larger batches return more messages to the event loop
#: at once, and the health check waits behind them (docs/performance.md, round 5).
BATCH_MESSAGES = 4
#: Seconds between warm-up calls while some workers are still loading their analyzer, and at most
#: how long that may take (a loaded machine takes tens of seconds; past this, start-up fails).
WARM_UP_POLL = 0.05
WARM_UP_SECONDS = 300.0


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of the pool for ``/metrics``: how busy the workers are and how well calls batch."""

    workers: int
    busy: int
    #: Messages waiting for a worker.
    queued: int
    #: Worker calls made, and the messages they carried (their ratio is the mean batch size).
    calls: int
    messages: int
    #: Times the workers were replaced (a call overran its budget, or a worker died).
    replacements: int


@dataclass(eq=False)
class _Call:
    """One message waiting for, or in, a worker."""

    requests: list[DetectRequest]
    future: asyncio.Future[list[list[Finding]]]
    chars: int = 0
    #: Run on its own, never batched: a rerun after a batch overran its budget.
    alone: bool = False
    #: Already run once more after losing its worker (rule 6).
    rerun: bool = False
    expiry: asyncio.TimerHandle | None = field(default=None, repr=False)


class _Collateral(Exception):
    """A call lost because another call's timeout replaced the pool it was running in."""


class Detector:
    """Runs :class:`~gateway.inspect.analyzer.Analyzer` in ``workers`` processes (rules in the module doc)."""

    def __init__(self, plugin_modules: Sequence[str] = (), *, workers: int = 1, timeout: float = 10.0,
                 queue_timeout: float = 30.0) -> None:
        self._plugin_modules = tuple(plugin_modules)
        self._workers = workers
        self.timeout = timeout
        self.queue_timeout = queue_timeout
        self._pool: ProcessPoolExecutor | None = None
        self._warming: asyncio.Task[None] | None = None
        self._queue: collections.deque[_Call] = collections.deque()
        self._free = 0
        self._running: set[asyncio.Task[None]] = set()
        self.ready = False
        #: The process ids of the current workers, each of which has answered its warm-up call.
        self.worker_pids: frozenset[int] = frozenset()
        #: Worker calls made and messages they carried (their ratio is the mean batch size).
        self.calls = 0
        self.messages = 0
        self.replacements = 0

    def stats(self) -> PoolStats:
        busy = self._workers - self._free if self._pool is not None else 0
        queued = sum(1 for call in self._queue if not call.future.done())  # not those whose caller gave up
        return PoolStats(workers=self._workers, busy=busy, queued=queued, calls=self.calls,
                         messages=self.messages, replacements=self.replacements)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(self._plugin_modules,),
        )

    async def start(self) -> None:
        """Start the workers and wait until each has its analyzer loaded."""
        self._pool = self._new_pool()
        self._free = self._workers
        await self._warm_up(self._pool)

    async def _warm_up(self, pool: ProcessPoolExecutor) -> None:
        """Return once every worker has loaded its analyzer and analyzed the warm-up text.

        Workers start side by side, and the first one ready can take every warm-up call while another is
        still loading; a message sent to that one would wait for it, on its time budget. So the calls go
        on until each worker has answered one (within :data:`WARM_UP_SECONDS`).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WARM_UP_SECONDS
        answered: set[int] = set()
        while True:
            missing = self._workers - len(answered)
            answered.update(await asyncio.gather(*(loop.run_in_executor(pool, warm_up) for _ in range(missing))))
            if len(answered) >= self._workers:
                break
            if loop.time() > deadline:
                raise InspectionError(f"{self._workers - len(answered)} inspection worker(s) did not load "
                                      f"within {WARM_UP_SECONDS}s")
            await asyncio.sleep(WARM_UP_POLL)  # the others are still loading
        if pool is self._pool:
            self.worker_pids = frozenset(answered)
            self.ready = True

    async def detect(self, requests: Sequence[DetectRequest]) -> list[list[Finding]]:
        """Findings for each request, in order; raise InspectionTimeout/InspectionBusy/InspectionError."""
        if not requests:
            return []
        if self._pool is None:
            raise InspectionError("detector not started")
        loop = asyncio.get_running_loop()
        call = _Call(list(requests), loop.create_future(), sum(len(r.text) for r in requests))
        call.expiry = loop.call_later(self.queue_timeout, self._expire, call)
        self._queue.append(call)
        self._dispatch()
        # A caller that gives up cancels its future: a queued call is then skipped, a running one's
        # result dropped.
        return await call.future

    def _expire(self, call: _Call) -> None:
        """Refuse a call still waiting for a worker after ``queue_timeout`` (rule 2)."""
        if call in self._queue:
            self._queue.remove(call)
            _fail(call, InspectionBusy(f"no inspection worker free within {self.queue_timeout}s"))

    def _dispatch(self) -> None:
        """Give each free worker the calls at the head of the queue (rule 3)."""
        while self._free > 0:
            batch = self._take()
            if not batch:
                return
            self._free -= 1
            task = asyncio.get_running_loop().create_task(self._run_batch(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _take(self) -> list[_Call]:
        batch: list[_Call] = []
        chars = 0
        while self._queue:
            call = self._queue[0]
            if call.future.done():  # its caller gave up while it waited
                _fail(self._queue.popleft(), InspectionError("abandoned"))
                continue
            if batch and (call.alone or batch[0].alone or len(batch) >= BATCH_MESSAGES
                          or chars + call.chars > BATCH_CHARS):
                break
            self._queue.popleft()
            if call.expiry is not None:
                call.expiry.cancel()
            batch.append(call)
            chars += call.chars
        return batch

    async def _run_batch(self, batch: list[_Call]) -> None:
        try:
            await self._settle(batch)
        except asyncio.CancelledError:  # the detector is closing: nobody waits forever
            for call in batch:
                _fail(call, InspectionError("inspection stopped"))
            raise
        finally:
            self._free += 1
            self._dispatch()

    async def _settle(self, batch: list[_Call]) -> None:
        """Run one batch and give each call its findings, its error, or its place back in the queue."""
        try:
            outcomes = await self._run_in_pool([c.requests for c in batch])
        except _Collateral:
            twice = [c for c in batch if c.rerun]
            self._requeue([c for c in batch if not c.rerun], alone=False)
            for call in twice:
                _fail(call, InspectionError("inspection workers were replaced twice"))
            return
        except InspectionTimeout as exc:
            if len(batch) > 1:  # not charged to any one of them (rule 4)
                self._requeue(batch, alone=True)
                return
            _fail(batch[0], exc)
            return
        except AduanaError as exc:
            for call in batch:
                _fail(call, exc)
            return
        for call, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                _fail(call, _translate(outcome))
            elif not call.future.done():
                call.future.set_result(outcome)

    def _requeue(self, calls: list[_Call], *, alone: bool) -> None:
        """Put ``calls`` back at the head of the queue, in their order, to run once more."""
        for call in reversed(calls):
            call.rerun = call.rerun or not alone
            call.alone = call.alone or alone
            self._queue.appendleft(call)

    async def _run_in_pool(self, messages: list[list[DetectRequest]]) -> list[list[list[Finding]] | BaseException]:
        """One worker call in the current pool, its time budget counted from when a worker takes it."""
        if self._warming is not None and not self._warming.done():
            try:  # shielded: one caller giving up must not cancel the warm-up the others wait for
                await asyncio.shield(self._warming)
            except Exception as exc:
                raise InspectionError("replacement inspection workers did not start") from exc
        pool = self._pool
        if pool is None:
            raise InspectionError("detector closed")
        self.calls += 1
        self.messages += len(messages)
        future = asyncio.get_running_loop().run_in_executor(pool, run_batch, messages)
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError as exc:
            if pool is self._pool:
                self._replace_pool()
            raise InspectionTimeout(f"detection exceeded {self.timeout}s") from exc
        except BrokenProcessPool as exc:
            if pool is not self._pool:
                raise _Collateral from exc
            self._replace_pool()
            raise InspectionError("an inspection worker died") from exc
        except Exception as exc:  # the call itself failed (e.g. a result that cannot be pickled)
            raise _translate(exc) from exc

    def _replace_pool(self) -> None:
        self.replacements += 1
        old = self._pool
        self._pool = self._new_pool()
        self.ready = False
        if old is not None:
            _kill(old)
        self._warming = asyncio.get_running_loop().create_task(self._warm_up(self._pool))
        # A failed warm-up surfaces to the callers waiting on it (or as a broken pool on the next call).
        self._warming.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def close(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
        for task in list(self._running):
            task.cancel()
        while self._queue:
            _fail(self._queue.popleft(), InspectionError("detector closed"))
        if self._pool is not None:
            _kill(self._pool)
            self._pool = None
        self.ready = False


def _fail(call: _Call, exc: BaseException) -> None:
    if call.expiry is not None:
        call.expiry.cancel()
    if not call.future.done():
        call.future.set_exception(exc)


def _translate(exc: BaseException) -> AduanaError:
    """The error a caller gets for an exception a worker raised while analyzing its message."""
    if isinstance(exc, AduanaError):
        return exc
    if isinstance(exc, RecognizerFailure):
        return PluginError(exc.plugin, "a recognizer raised")
    # A recognizer raised inside the worker: the message cannot be inspected.
    return InspectionError(f"detection failed: {type(exc).__name__}")


def _kill(pool: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor cannot cancel a running call; terminate its processes so a hung
    # recognizer frees its CPU, then let the executor clean up.
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
