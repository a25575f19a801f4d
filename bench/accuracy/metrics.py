"""Accuracy metrics for redaction: leak rate, over-redaction, precision and recall per entity.

Definitions (``docs/accuracy.md`` repeats them for readers):

- A *personal* value is a labeled span whose label is personal data under our packs (``PERSONAL``);
  labels in ``IGNORED`` (organizations, countries, ages, nationalities, job titles …) are neither
  personal nor non-personal: no metric counts them.
- *Leak rate*: the share of personal values of which at least one alphanumeric character is not covered
  by any finding. Which type the finding has does not matter: a covered value did not leave.
- *Over-redaction*: the share of alphanumeric characters outside every labeled span that a finding covers.
- *Precision* (overall): of the predicted spans (overlapping findings merged, as the transformer merges
  them), the share that overlaps a personal value; spans overlapping only ignored labels are left out.
- Per entity type, *recall* is the share of values of that type overlapped by a finding of the same
  type, and *precision* the share of findings of that type that overlap a value of the same type.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Corpus label → the entity type it is scored as (English generator labels and Spanish ticket labels).
PERSONAL: Mapping[str, str] = {
    "PERSON": "PERSON", "STREET_ADDRESS": "LOCATION", "CITY": "LOCATION", "ZIP_CODE": "LOCATION",
    "LOCATION": "LOCATION", "DATE_OF_BIRTH": "DATE_TIME", "DATE_TIME": "DATE_TIME",
    "PHONE_NUMBER": "PHONE_NUMBER", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS", "DOMAIN_NAME": "URL",
    "US_DRIVER_LICENSE": "LICENSE_NUMBER", "ES_NIF": "ES_NIF", "ES_NIE": "ES_NIE",
}
IGNORED = frozenset({"COUNTRY", "STATE", "ORGANIZATION", "HOSPITAL_NAME", "NRP", "AGE", "TITLE", "YEAR",
                     "DAY_OF_WEEK"})
#: Predicted type → the type it is scored as (a fax number is a phone number; Presidio's names).
PREDICTED: Mapping[str, str] = {"FAX_NUMBER": "PHONE_NUMBER", "US_DRIVER_LICENSE": "LICENSE_NUMBER"}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Sample:
    """One labeled text."""

    id: str
    text: str
    spans: tuple[Span, ...]

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> Sample:
        spans = tuple(Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in row["spans"])
        return cls(str(row["id"]), str(row["text"]), spans)


@dataclass
class Score:
    """Counts over a corpus; the properties turn them into rates."""

    values: int = 0
    leaked: int = 0
    other_chars: int = 0
    other_hidden: int = 0
    predicted: int = 0
    predicted_true: int = 0
    predicted_ignored: int = 0
    support: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)  # type-aware recall hits
    leaks_by_type: Counter[str] = field(default_factory=Counter)
    pred_by_type: Counter[str] = field(default_factory=Counter)
    pred_true_by_type: Counter[str] = field(default_factory=Counter)
    misses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def leak_rate(self) -> float:
        return self.leaked / self.values if self.values else 0.0

    @property
    def over_redaction(self) -> float:
        return self.other_hidden / self.other_chars if self.other_chars else 0.0

    @property
    def precision(self) -> float:
        scored = self.predicted - self.predicted_ignored
        return self.predicted_true / scored if scored else 1.0

    def recall_of(self, entity_type: str) -> float | None:
        n = self.support[entity_type]
        return self.found[entity_type] / n if n else None

    def precision_of(self, entity_type: str) -> float | None:
        n = self.pred_by_type[entity_type]
        return self.pred_true_by_type[entity_type] / n if n else None

    def leak_of(self, entity_type: str) -> float | None:
        n = self.support[entity_type]
        return self.leaks_by_type[entity_type] / n if n else None


def shape(value: str) -> str:
    """A value's pattern without the value: letters → ``A``/``a``, digits → ``9``, runs collapsed."""
    out = re.sub(r"[A-ZÀ-Þ]", "A", value)
    out = re.sub(r"[a-zß-ÿ]", "a", out)
    out = re.sub(r"\d", "9", out)
    return re.sub(r"(a)\1+", r"\1+", re.sub(r"(A)\1+", r"\1+", out))


def _merge(findings: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[tuple[int, int, str]] = []
    for start, end, entity_type in sorted(findings):
        if merged and start < merged[-1][1]:
            prev = merged[-1]
            merged[-1] = (prev[0], max(prev[1], end), prev[2])
        else:
            merged.append((start, end, entity_type))
    return merged


def score_sample(score: Score, sample: Sample, findings: Sequence[tuple[int, int, str]]) -> None:
    """Add one sample's results: ``findings`` are (start, end, type) of every span the system hides."""
    text = sample.text
    covered = [False] * len(text)
    for start, end, _ in findings:
        for i in range(max(start, 0), min(end, len(text))):
            covered[i] = True
    labeled = [False] * len(text)
    personal = [s for s in sample.spans if s.label in PERSONAL]
    for span in sample.spans:
        for i in range(span.start, span.end):
            labeled[i] = True
    for span in personal:
        kind = PERSONAL[span.label]
        score.values += 1
        score.support[kind] += 1
        chars = [i for i in range(span.start, span.end) if text[i].isalnum()]
        if any(not covered[i] for i in chars):
            score.leaked += 1
            score.leaks_by_type[kind] += 1
            score.misses[kind][shape(text[span.start:span.end])] += 1
        if any(PREDICTED.get(t, t) == kind and s < span.end and span.start < e for s, e, t in findings):
            score.found[kind] += 1
    for i, ch in enumerate(text):
        if ch.isalnum() and not labeled[i]:
            score.other_chars += 1
            score.other_hidden += covered[i]
    for start, end, entity_type in findings:
        kind = PREDICTED.get(entity_type, entity_type)
        score.pred_by_type[kind] += 1
        if any(PERSONAL[s.label] == kind and s.start < end and start < s.end for s in personal):
            score.pred_true_by_type[kind] += 1
    for start, end, _ in _merge(findings):
        hits = [s for s in sample.spans if s.start < end and start < s.end]
        score.predicted += 1
        if any(s.label in PERSONAL for s in hits):
            score.predicted_true += 1
        elif hits:
            score.predicted_ignored += 1
