"""The chain walker: recompute a hash chain entry by entry and hold it against signed checkpoints.

Rules this module keeps:

1. Every departure is a :class:`Problem` with the sequence number where the chain first stops being
   consistent — the smaller number when two records disagree about a position — so a deletion, an
   insertion and a reordering are all reported where they happened.
2. The recomputed hash, never the claimed one, is compared with checkpoints; the claimed hash is
   carried forward so one modified record is reported once, not at every record after it.
3. Memory is bounded by one entry and one checkpoint at a time: both arrive as sorted streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gateway.audit.record import link_hash

Progress = Callable[[int], None]
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Problem:
    seq: int | None
    message: str


@dataclass
class Report:
    """What a verification found. ``ok`` only when there is no problem at all."""

    source: str
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    records: int = 0
    omitted: int = 0
    checkpoints: int = 0
    anchor_seq: int | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    key_ids: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    _first_bad: int | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_bad_seq(self) -> int | None:
        """The lowest sequence number any problem names (None when none names one)."""
        return self._first_bad

    def add(self, seq: int | None, message: str) -> None:
        self.problem_count += 1
        if seq is not None and (self._first_bad is None or seq < self._first_bad):
            self._first_bad = seq
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, message))


@dataclass(frozen=True)
class Entry:
    """One position of the chain: a full record or an omitted one (its digest only)."""

    seq: int
    prev_hash: str
    hash: str
    digest: bytes
    omitted: bool


Checkpoint = tuple[int, str, str]  # seq, hash, time


class ChainWalker:
    """Recompute a chain entry by entry and hold it against signed checkpoints (sorted by seq)."""

    def __init__(self, report: Report, start_seq: int, start_hash: str | None,
                 checkpoints: Iterable[Checkpoint]) -> None:
        self.report = report
        self.expected = start_seq
        self.running = start_hash
        self._cps = iter(checkpoints)
        self._next_cp: Checkpoint | None = None
        self._advance_cp()
        # Checkpoints before the start name purged records; one right before it must match the start.
        while self._next_cp is not None and self._next_cp[0] < start_seq:
            cp_seq, cp_hash, cp_time = self._next_cp
            if cp_seq == start_seq - 1 and start_hash is not None and cp_hash != start_hash:
                report.add(start_seq, f"the chain's start differs from the checkpoint signed at {cp_time}")
            self._advance_cp()

    def _advance_cp(self) -> None:
        self._next_cp = next(self._cps, None)
        if self._next_cp is not None:
            self.report.checkpoints += 1

    def skip(self, seq: int) -> None:
        """An unreadable entry at ``seq`` (already reported): resume after it without a link."""
        self.expected = max(self.expected, seq + 1)
        self.running = None

    def feed(self, entry: Entry) -> None:
        report, seq = self.report, entry.seq
        positioned = True
        if seq > self.expected:
            gap = f"record {self.expected}" if seq == self.expected + 1 else f"records {self.expected}-{seq - 1}"
            report.add(self.expected, f"{gap} missing (deleted)")
            positioned = False
        elif seq < self.expected:
            report.add(seq, f"record {seq} appears again or out of order (expected {self.expected})")
            positioned = False
        if positioned and self.running is not None and entry.prev_hash != self.running:
            report.add(seq, f"record {seq} does not link to the record before it (inserted or replaced)")
        computed = link_hash(entry.prev_hash, entry.digest)
        if computed != entry.hash:
            report.add(seq, f"record {seq} was modified: its content does not match its hash")
        while self._next_cp is not None and self._next_cp[0] <= seq:
            cp_seq, cp_hash, cp_time = self._next_cp
            if cp_seq == seq and cp_hash != computed:
                report.add(seq, f"record {seq} differs from the checkpoint signed at {cp_time}")
            elif cp_seq < seq and cp_seq >= self.expected:
                report.add(cp_seq, f"a checkpoint signed at {cp_time} names record {cp_seq}, which is missing")
            self._advance_cp()
        if entry.omitted:
            report.omitted += 1
        else:
            report.records += 1
        if report.first_seq is None:
            report.first_seq = seq
        report.last_seq, report.last_hash = seq, entry.hash
        self.running = entry.hash
        self.expected = max(self.expected, seq + 1)

    def finish(self, last_seq: int | None, last_hash: str | None, what: str) -> None:
        """Check the chain reached ``last_seq``/``last_hash`` (what ``what`` promised) and every checkpoint."""
        end = self.expected - 1
        if last_seq is not None and end < last_seq:
            self.report.add(end + 1, f"records {end + 1}-{last_seq} missing at the end (truncated; {what} "
                                     f"ends at {last_seq})")
        elif last_seq is not None and end == last_seq and last_hash is not None and self.running != last_hash:
            self.report.add(end, f"the last record's hash differs from the one {what} names")
        while self._next_cp is not None:
            cp_seq, _, cp_time = self._next_cp
            self.report.add(end + 1, f"truncated: the checkpoint signed at {cp_time} names record {cp_seq}, "
                                     f"but the chain ends at {end}")
            self._advance_cp()
