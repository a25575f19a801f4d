"""Prometheus metrics, one registry per gateway process (exposed on the admin listener's /metrics)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from gateway.inspect.pool import PoolStats


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "aduana_requests_total", "Vendor requests by contract, route and outcome.",
            ["contract", "route", "outcome"], registry=self.registry,
        )
        self.latency = Histogram(
            "aduana_request_seconds", "Time from request received to response released.",
            ["contract", "route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.inspection = Histogram(
            "aduana_inspection_seconds", "Time spent detecting and transforming personal data per message.",
            ["direction"], registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.findings = Counter(
            "aduana_findings_total", "Personal data found, by entity type and the action taken.",
            ["entity_type", "action"], registry=self.registry,
        )
        self.blocked = Counter(
            "aduana_blocked_total", "Requests refused, by reason code.", ["reason"], registry=self.registry,
        )

    def watch_inspection_pool(self, stats: Callable[[], PoolStats]) -> Callable[[], None]:
        """Export the inspection pool's state, read at each scrape; returns the call that stops it."""
        collector = _PoolCollector(stats)
        self.registry.register(collector)
        return lambda: self.registry.unregister(collector)


class _PoolCollector(Collector):
    """The inspection workers: how many are busy, what waits for them, and how calls batch."""

    def __init__(self, stats: Callable[[], PoolStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self._stats()
        yield GaugeMetricFamily("aduana_inspection_workers", "Inspection worker processes configured.",
                                value=s.workers)
        yield GaugeMetricFamily("aduana_inspection_workers_busy", "Inspection workers running a call now.",
                                value=s.busy)
        yield GaugeMetricFamily("aduana_inspection_queued_messages",
                                "Messages waiting for a free inspection worker.", value=s.queued)
        yield CounterMetricFamily("aduana_inspection_worker_calls",
                                  "Calls made to the inspection workers (one per batch).", value=s.calls)
        yield CounterMetricFamily("aduana_inspection_messages",
                                  "Messages the inspection workers analyzed; divided by calls, the mean batch "
                                  "size.", value=s.messages)
        yield CounterMetricFamily("aduana_inspection_pool_replacements",
                                  "Times the inspection workers were replaced: a call overran its time budget "
                                  "or a worker died.", value=s.replacements)
