"""Prometheus metrics, one registry per gateway process (exposed on the admin listener's /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
