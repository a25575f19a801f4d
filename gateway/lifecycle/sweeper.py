"""The retention sweeper: delete what each contract's policy no longer lets Aduana keep.

Runs inside ``aduana serve`` every ``lifecycle.sweep_interval_seconds`` and on demand as ``aduana sweep``.

Rules this module keeps:
1. Vault entries older than the contract's ``retention.vault`` (by ``created_at``) are deleted in batches,
   one write transaction per batch. Each batch takes the contract's lock and re-reads its state first, so
   a legal hold or a termination placed meanwhile stops the very next batch (hold rule 1).
2. Every deletion is counted exactly once in the audit trail: each batch adds its count to a durable
   counter in the same transaction; the batch that finds nothing more to delete writes the contract's
   ``retention.sweep`` record with the counter's total and clears it, atomically. A crash mid-sweep
   therefore loses no count: the next run reports it.
3. Audit records follow ``retention.audit`` through :func:`gateway.audit.retention.purge` (a prefix of the
   shared chain behind a signed anchor). While a contract is on hold the purge stops before that
   contract's first record. Aduana stores no message bodies, so ``payloads`` never has anything to delete.
4. Time comes from an injectable clock (:meth:`Sweeper.sweep_at_time`). A dry run only reads.
5. In the server the sweep runs on the store thread pool, never on the event loop; a failure is logged and
   audited and the gateway goes on serving. Replicas sharing a store claim each run in the store, so one
   sweep runs per interval however many gateways there are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.audit.log import AuditLog
from gateway.audit.record import AuditEvent, format_time, parse_time
from gateway.audit.retention import audit_retention, purge
from gateway.lifecycle.rules import ContractPolicy
from gateway.lifecycle.state import ACTIVE, lock_contract, read_state
from gateway.oplog import get_logger
from gateway.pluginmanager import Plugins
from gateway.store.base import Transaction, serialize

BATCH = 500
_CLAIM = "lifecycle:last-sweep"
NOT_STORED = "not stored: Aduana never keeps message bodies"


def _pending_name(contract: str) -> str:
    return f"retention-pending:{contract}:vault"


def created_stamp(moment: datetime) -> str:
    """A time in the form ``vault.created_at`` uses (ISO 8601, UTC offset), comparable as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass
class ClassSweep:
    """What one data class of one contract lost (or would lose) in one run."""

    data_class: str
    count: int = 0
    period: str | None = None
    source: str | None = None
    cutoff: str | None = None
    note: str | None = None


@dataclass
class ContractSweep:
    contract: str
    vendor: str | None
    classes: dict[str, ClassSweep] = field(default_factory=dict)
    skipped: str | None = None


@dataclass
class SweepReport:
    time: str
    dry_run: bool
    contracts: list[ContractSweep] = field(default_factory=list)
    audit: ClassSweep = field(default_factory=lambda: ClassSweep("audit"))
    failures: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Totals per data class over every contract."""
        totals = {"vault": 0, "payloads": 0, "audit": self.audit.count}
        for c in self.contracts:
            for name, cls in c.classes.items():
                totals[name] = totals.get(name, 0) + cls.count
        return totals


def _meta_int(tx: Transaction, name: str) -> int:
    row = tx.fetchone("SELECT value FROM store_meta WHERE name = ?", (name,))
    return int(row[0]) if row else 0


def _set_meta(tx: Transaction, name: str, value: str) -> None:
    if tx.execute("UPDATE store_meta SET value = ? WHERE name = ?", (value, name)) == 0:
        tx.execute("INSERT INTO store_meta (name, value) VALUES (?, ?)", (name, value))


class Sweeper:
    """Retention over one store, for the contracts (and policies) of one config."""

    def __init__(self, log: AuditLog, policies: Mapping[str, ContractPolicy], plugins: Plugins | None = None,
                 *, batch: int = BATCH, actor: str | None = None) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.log = log
        self.db = log.db
        self.policies = dict(policies)
        self.plugins = plugins
        self.batch = batch
        self.actor = actor

    def sweep(self, *, dry_run: bool = False) -> SweepReport:
        return self.sweep_at_time(self.log.now(), dry_run=dry_run)

    def sweep_at_time(self, now: datetime, *, dry_run: bool = False) -> SweepReport:
        """Delete (or, with ``dry_run``, count) everything expired at ``now``."""
        report = SweepReport(time=format_time(now), dry_run=dry_run)
        for name in sorted(self.policies):
            try:
                report.contracts.append(self._contract(self.policies[name], now, dry_run))
            except Exception as exc:  # one contract's failure must not stop the others
                report.failures.append(f"{name}: {type(exc).__name__}: {exc}")
                report.contracts.append(ContractSweep(name, self.policies[name].vendor, skipped="failed"))
        try:
            report.audit = self._audit(now, dry_run)
        except Exception as exc:
            report.failures.append(f"audit records: {type(exc).__name__}: {exc}")
            report.audit = ClassSweep("audit", note="failed")
        if not dry_run:
            self._finish(report)
        return report

    # --- vault entries ---------------------------------------------------------------------------

    def _contract(self, policy: ContractPolicy, now: datetime, dry_run: bool) -> ContractSweep:
        result = ContractSweep(policy.contract, policy.vendor)
        payloads = policy.retention.get("payloads")
        result.classes["payloads"] = ClassSweep("payloads", period=payloads[0] if payloads else None,
                                                source=payloads[1] if payloads else None, note=NOT_STORED)
        with self.db.transaction() as tx:
            state = read_state(tx, policy.contract)
        if state.status != ACTIVE:
            result.skipped = state.status
        elif state.on_hold:
            result.skipped = f"legal hold since {state.hold_since}"
        vault = ClassSweep("vault")
        result.classes["vault"] = vault
        rule = policy.retention.get("vault")
        if rule is None:
            vault.note = "no retention period: kept until the contract is terminated"
        else:
            vault.period, vault.source = rule
            period = policy.period("vault")
            assert period is not None
            vault.cutoff = created_stamp(now - period)
            if result.skipped is None:
                self._sweep_vault(policy, vault, dry_run)
            else:
                vault.note = f"skipped ({result.skipped})"
        return result

    def _sweep_vault(self, policy: ContractPolicy, vault: ClassSweep, dry_run: bool) -> None:
        contract, cutoff = policy.contract, vault.cutoff
        if dry_run:
            with self.db.transaction() as tx:
                row = tx.fetchone("SELECT COUNT(*) FROM vault WHERE contract = ? AND created_at < ?",
                                  (contract, cutoff))
                vault.count = (int(row[0]) if row else 0) + _meta_int(tx, _pending_name(contract))
            return
        while True:
            record = None
            with self.db.transaction(write=True) as tx:
                lock_contract(self.db, tx, contract)
                state = read_state(tx, contract)
                if state.on_hold or state.status != ACTIVE:  # rule 1: placed while we were sweeping
                    vault.note = "stopped: legal hold" if state.on_hold else f"stopped: {state.status}"
                    return
                deleted = tx.execute(
                    "DELETE FROM vault WHERE contract = ? AND token IN (SELECT token FROM vault WHERE contract = ?"
                    " AND created_at < ? ORDER BY created_at LIMIT ?)",
                    (contract, contract, cutoff, self.batch),
                )
                total = _meta_int(tx, _pending_name(contract)) + deleted
                if deleted == self.batch:  # maybe more: carry the count (rule 2)
                    _set_meta(tx, _pending_name(contract), str(total))
                else:
                    tx.execute("DELETE FROM store_meta WHERE name = ?", (_pending_name(contract),))
                    if total:
                        (record,) = self.log.append_locked(tx, [AuditEvent(
                            kind="retention", action="retention.sweep", contract=contract, vendor=policy.vendor,
                            actor=self.actor, reason="retention_expired",
                            details={"vault": total, "payloads": 0, "before": cutoff, "period": vault.period,
                                     "pack": vault.source},
                        )])
                    vault.count = total
            if record is not None:
                self.log.notify_sink(record)
            if deleted < self.batch:
                return

    # --- audit records ---------------------------------------------------------------------------

    def _audit(self, now: datetime, dry_run: bool) -> ClassSweep:
        periods = [p.retention["audit"] for p in self.policies.values() if "audit" in p.retention]
        period, source = audit_retention(periods)
        cutoff = now - period
        result = ClassSweep("audit", period=_iso_days(period), source=source)
        with self.db.transaction() as tx:
            held = sorted(str(r[0]) for r in tx.fetchall(
                "SELECT contract FROM contract_state WHERE hold_since IS NOT NULL"))
            first = None
            if held:
                marks = ", ".join("?" for _ in held)
                first = tx.fetchone(  # only "?" marks are formatted in; the names are bound parameters
                    f"SELECT time FROM audit_records WHERE contract IN ({marks}) ORDER BY seq LIMIT 1",  # noqa: S608
                    held)
        if first is not None and parse_time(str(first[0])) < cutoff:
            cutoff = parse_time(str(first[0]))
            result.note = f"stops before the first record of a contract on legal hold ({', '.join(held)})"
        result.cutoff = format_time(cutoff)
        purged = purge(self.log, cutoff, dry_run=dry_run, actor=self.actor, min_retention=period, now=now)
        result.count = purged.count
        return result

    # --- after a run -------------------------------------------------------------------------------

    def _finish(self, report: SweepReport) -> None:
        """Tell the plugins, then record the run (with any failure) in the audit trail."""
        failures = list(report.failures)
        if self.plugins is not None:
            for c in report.contracts:
                if c.skipped not in ("terminated", "terminating", "failed"):
                    counts = {name: cls.count for name, cls in c.classes.items()}
                    failures += [f"plugin {f.plugin}: {type(f.error).__name__}"
                                 for f in self.plugins.retention_run(c.contract, counts)]
            failures += [f"plugin {f.plugin}: {type(f.error).__name__}"
                         for f in self.plugins.retention_run(None, {"audit": report.audit.count})]
        counts = report.counts()
        if failures:
            get_logger().error("retention_sweep_failed", failures=len(failures))
        self.log.append(AuditEvent(
            kind="retention", action="retention.sweep", actor=self.actor,
            decision="failed" if failures else "done", reason="sweep_failed" if failures else "retention_expired",
            details={"vault": counts["vault"], "payloads": counts["payloads"], "audit": counts["audit"],
                     "contracts": len(report.contracts),
                     "held": sorted(c.contract for c in report.contracts if (c.skipped or "").startswith("legal")),
                     "failures": len(failures)},
        ))


def _iso_days(period: timedelta) -> str:
    return f"P{period.days}D"


def claim_run(log: AuditLog, now: datetime, interval: float) -> bool:
    """Take this interval's sweep for this process; ``False`` when another gateway ran it (rule 5)."""
    with log.db.transaction(write=True) as tx:
        serialize(log.db, tx, _CLAIM)
        row = tx.fetchone("SELECT value FROM store_meta WHERE name = ?", (_CLAIM,))
        if row is not None and parse_time(str(row[0])) > now - timedelta(seconds=interval * 0.9):
            return False
        _set_meta(tx, _CLAIM, format_time(now))
    return True


async def run_periodically(make: Callable[[], Sweeper], executor: Executor, interval: float) -> None:
    """The server's sweeper task: every ``interval`` seconds, one sweep on ``executor``; never raises."""
    log = get_logger()
    loop = asyncio.get_running_loop()

    def once() -> dict[str, Any] | None:
        sweeper = make()
        if not claim_run(sweeper.log, sweeper.log.now(), interval):
            return None
        report = sweeper.sweep()
        return {"counts": report.counts(), "failures": len(report.failures)}

    while True:
        await asyncio.sleep(interval)
        try:
            outcome = await loop.run_in_executor(executor, once)
        except Exception as exc:  # rule 5: logged and audited; the gateway goes on
            log.error("retention_sweep_failed", error=type(exc).__name__)
            try:
                await loop.run_in_executor(executor, _record_failure, make, exc)
            except Exception as audit_exc:
                log.error("retention_sweep_failure_not_audited", error=type(audit_exc).__name__)
            continue
        if outcome is not None:
            log.info("retention_sweep", **outcome)


def _record_failure(make: Callable[[], Sweeper], exc: Exception) -> None:
    make().log.append(AuditEvent(kind="retention", action="retention.sweep", decision="failed",
                                 reason="sweep_failed", details={"error": type(exc).__name__}))
