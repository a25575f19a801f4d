"""A bounded load generator for a gateway on loopback: mixed vendor requests, every answer recorded.

Used by ``bench/load_test.py`` (the figures in ``docs/reliability.md``) and by the crash test in
``tests/adversarial/test_crash.py``. It sends exactly ``total`` requests (or fewer if ``stop`` is set),
at most ``concurrency`` at a time, and never to anything but the base URL it is given.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp

#: The request mix: (name, weight). Each vendor has its own route prefix ``/v<i>``.
MIX: tuple[tuple[str, int], ...] = (
    ("get_ticket", 40),     # protected response: detection + tokenization
    ("list_tickets", 15),   # protected response, several tickets
    ("post_comment", 25),   # on protect-request routes: protected body; else restored
    ("wrong_contract", 8),  # another vendor's prefix: 403, audited
    ("no_key", 7),          # 401, audited
    ("slow", 5),            # an upstream that takes its time (in flight when a fault strikes)
)
TICKETS = (1001, 1002, 1003, 1004, 1005, 1006)


@dataclass
class Answer:
    kind: str
    status: int  # 0: no answer (connection error)
    request_id: str | None
    latency_ms: float


@dataclass
class Stats:
    answers: list[Answer] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    def by_status(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def latency(self, q: float, kinds: Sequence[str] | None = None) -> float:
        values = sorted(a.latency_ms for a in self.answers if a.status and (kinds is None or a.kind in kinds))
        if not values:
            return 0.0
        return values[min(len(values) - 1, int(q * len(values)))]

    def summary(self) -> dict[str, object]:
        fast = [k for k, _ in MIX if k != "slow"]
        return {
            "requests": len(self.answers),
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(len(self.answers) / self.seconds, 1) if self.seconds else 0.0,
            "status": {str(k): v for k, v in sorted(self.by_status().items())},
            "latency_ms": {"p50": round(self.latency(0.5, fast), 1), "p95": round(self.latency(0.95, fast), 1),
                           "p99": round(self.latency(0.99, fast), 1)},
            "by_kind": dict(sorted(Counter(a.kind for a in self.answers).items())),
        }


def _request(kind: str, vendor: int, vendors: int, rng: random.Random) -> tuple[str, str, dict[str, str], bytes]:
    prefix = f"/v{vendor}"
    ticket = rng.choice(TICKETS)
    if kind == "get_ticket":
        return "GET", f"{prefix}/api/tickets/{ticket}", {}, b""
    if kind == "list_tickets":
        return "GET", f"{prefix}/api/tickets", {}, b""
    if kind == "post_comment":
        n = rng.randrange(10**8)
        body = {"author": "Agent", "body": f"Dear customer, we wrote to client{n}@example.com, ref card "
                                          f"4111 1111 1111 1111 was refunded."}
        return "POST", f"{prefix}/api/tickets/{ticket}/comments", {"Content-Type": "application/json"}, \
            json.dumps(body).encode()
    if kind == "wrong_contract":
        return "GET", f"/v{(vendor + 1) % vendors}/api/tickets/{ticket}", {}, b""
    if kind == "slow":
        return "GET", f"{prefix}/api/slow?seconds=1", {}, b""
    return "GET", f"{prefix}/api/tickets/{ticket}", {}, b""  # no_key


async def run_load(base_url: str, keys: Sequence[str], *, total: int, concurrency: int, seed: int = 7,
                   stop: asyncio.Event | None = None, timeout: float = 60) -> Stats:
    """Send ``total`` mixed requests spread over the vendors whose ``keys`` are given (index = vendor)."""
    rng = random.Random(seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    plan = [(rng.choices(kinds, weights)[0], rng.randrange(len(keys))) for _ in range(total)]
    stats = Stats()
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty() and not (stop and stop.is_set()):
            kind, vendor = queue.get_nowait()
            method, path, headers, body = _request(kind, vendor, len(keys), rng)
            if kind != "no_key":
                headers = {**headers, "Authorization": f"Bearer {keys[vendor]}"}
            began = time.perf_counter()
            try:
                async with session.request(method, base_url + path, headers=headers, data=body or None) as resp:
                    await resp.read()
                    answer = Answer(kind, resp.status, resp.headers.get("X-Request-Id"),
                                    (time.perf_counter() - began) * 1000)
            except (aiohttp.ClientError, TimeoutError):
                answer = Answer(kind, 0, None, (time.perf_counter() - began) * 1000)
            stats.answers.append(answer)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    stats.finished = time.perf_counter()
    return stats
