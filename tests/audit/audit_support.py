"""Helpers shared by the audit tests (a module, not conftest, so tests and spawned workers can import it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.audit import AuditEvent


class StepClock:
    """A clock that moves forward by ``step`` each time it is read."""

    def __init__(self, start: datetime = datetime(2019, 1, 1, tzinfo=UTC), step: timedelta = timedelta(minutes=1)):
        self.moment = start
        self.step = step

    def __call__(self) -> datetime:
        self.moment += self.step
        return self.moment


def event(i: int = 0, *, contract: str = "acme", vendor: str = "Acme Contact Center",
          request_id: str | None = None) -> AuditEvent:
    return AuditEvent(
        kind="request", action="proxy", request_id=request_id or f"req-{i}", contract=contract, vendor=vendor,
        credential_id="k_1", route="helpdesk", method="GET", path_template="/helpdesk/api/tickets/{id}",
        decision="forwarded", reason="ok", upstream_status=200,
        entities={"PERSON": {"tokenize": 2}, "CREDIT_CARD": {"mask": 1}},
        policy=[{"name": "gdpr", "version": "1.0.0", "digest": "sha256:" + "ab" * 32}],
        bytes_in=123, bytes_out=456, latency_ms=12.5,
    )
