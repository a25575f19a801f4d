"""A bounded asyncio load generator (aiohttp): a fixed number of concurrent clients for a fixed time.

Each client sends one request, reads the whole response, records the latency, and sends the next one
(closed loop: the offered load adapts to the server, nothing queues up unbounded). Requests cycle over
the corpus in order, so every run sends the same bodies in the same proportions.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class Target:
    """One URL to fetch and the size of the body the upstream returns for it (what gets inspected)."""

    url: str
    body_bytes: int


@dataclass
class LoadResult:
    """What one load run measured."""

    concurrency: int
    seconds: float = 0.0
    ok: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    body_bytes: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def kb_per_s(self) -> float:
        return self.body_bytes / 1024 / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


async def run_load(
    targets: Sequence[Target],
    headers: Mapping[str, str],
    *,
    concurrency: int,
    duration: float,
    min_requests: int = 0,
    max_seconds: float | None = None,
) -> LoadResult:
    """Load ``targets`` with ``concurrency`` clients for ``duration`` seconds.

    The run goes on past ``duration`` until ``min_requests`` have completed (so percentiles of slow
    requests rest on enough samples), but never past ``max_seconds`` (default: four times ``duration``).
    Only 200 responses count as done; any other status or a transport error counts as an error.
    """
    result = LoadResult(concurrency=concurrency)
    cycle = itertools.cycle(targets)
    limit = max_seconds if max_seconds is not None else 4 * duration
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=dict(headers)) as session:
        started = time.perf_counter()

        def done() -> bool:
            elapsed = time.perf_counter() - started
            return elapsed >= limit or (elapsed >= duration and result.ok + result.errors >= min_requests)

        async def client() -> None:
            while not done():
                target = next(cycle)
                t0 = time.perf_counter()
                try:
                    async with session.get(target.url) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                latency = (time.perf_counter() - t0) * 1000
                result.statuses[status] += 1
                if status == 200:
                    result.ok += 1
                    result.body_bytes += target.body_bytes
                    result.latencies_ms.append(latency)
                else:
                    result.errors += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def warm_up(targets: Sequence[Target], headers: Mapping[str, str], *, requests: int, concurrency: int) -> None:
    """Send ``requests`` requests (results ignored): connections open, caches and workers warm."""
    cycle = itertools.cycle(targets)
    async with aiohttp.ClientSession(headers=dict(headers)) as session:
        async def client(n: int) -> None:
            for _ in range(n):
                async with session.get(next(cycle).url) as resp:
                    await resp.read()

        share = max(1, requests // concurrency)
        await asyncio.gather(*(client(share) for _ in range(concurrency)))
