"""Accuracy benchmark: our merged packs against Presidio's defaults, on the same labeled corpora.

Corpora:
- ``bench/accuracy/corpus_en.jsonl`` — English sentences from presidio-evaluator's generator
  (``generate_corpus.py``, fixed seed; committed);
- ``../shared/data/es_support_tickets.jsonl`` (relative to the repository root) — Spanish support
  tickets; skipped with a message when absent (a user's clone does not have it).

Systems:
- ``aduana``: the policy packs (default ``gdpr hipaa pci-dss``) merged, run through the same sandbox as
  ``aduana policy try`` (the plugins' recognizers, language detected per text, thresholds and allow-list
  of the packs); every finding the policy acts on counts as hidden.
- ``presidio``: ``AnalyzerEngine`` with its predefined recognizers and the small English spaCy model the
  gateway uses, all entities, language ``en``, no threshold; every finding counts as hidden.

Runs in the project's virtualenv (presidio-evaluator is only needed to regenerate the corpus)::

    .venv/bin/python bench/accuracy/run.py                 # both corpora, both systems
    .venv/bin/python bench/accuracy/run.py --misses        # plus the missed values' shapes per type
    .venv/bin/python bench/accuracy/run.py --corpus en --en-file /tmp/corpus_en_seed7.jsonl   # held out
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from metrics import PERSONAL, Sample, Score, score_sample  # noqa: E402  (the module beside this script)

CORPORA = {"en": HERE / "corpus_en.jsonl", "es": ROOT.parent / "shared" / "data" / "es_support_tickets.jsonl"}
DEFAULT_PACKS = ("gdpr", "hipaa", "pci-dss")
Findings = Callable[[str], list[tuple[int, int, str]]]


def load_corpus(path: Path, limit: int | None = None) -> list[Sample]:
    """The samples of a JSONL corpus (``{"id", "text", "spans": [{"start","end","label"}]}`` a line)."""
    with path.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [Sample.from_json(row) for row in rows[:limit]]


@contextmanager
def aduana_system(packs: Sequence[str] = DEFAULT_PACKS) -> Iterator[Findings]:
    """Our packs through the policy sandbox: (start, end, type) of every finding not allowed."""
    from gateway.pluginmanager import load_plugins
    from gateway.policy.loader import PackLibrary
    from gateway.policy.sandbox import Sandbox

    plugins = load_plugins(entry_points=False)
    policy = PackLibrary(plugins.policy_packs()).effective(list(packs))
    with Sandbox.open(plugins) as sandbox:
        def findings(text: str) -> list[tuple[int, int, str]]:
            result = sandbox.protect_text(policy, text)
            return [(f.start, f.end, f.entity_type) for f in result.findings if f.action != "allow"]

        yield findings


@contextmanager
def presidio_system() -> Iterator[Findings]:
    """Presidio's defaults with the small English model: every finding, in English."""
    import logging

    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    import gateway  # noqa: F401  (keeps tldextract offline)
    from gateway.inspect.analyzer import SPACY_MODEL

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}).create_engine()
    engine = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])

    def findings(text: str) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in engine.analyze(text=text, language="en")]

    yield findings


def evaluate(samples: Sequence[Sample], findings: Findings) -> Score:
    """Score ``findings`` over ``samples``."""
    score = Score()
    for sample in samples:
        score_sample(score, sample, findings(sample.text))
    return score


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def report(name: str, n: int, scores: dict[str, Score], misses: bool) -> str:
    """A Markdown section: headline metrics side by side, then per entity type."""
    systems = list(scores)
    lines = [f"### {name} ({n} texts, {next(iter(scores.values())).values} personal values)", "",
             "| metric | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    lines.append("| leak rate | " + " | ".join(_pct(s.leak_rate) for s in scores.values()) + " |")
    lines.append("| over-redaction | " + " | ".join(_pct(s.over_redaction) for s in scores.values()) + " |")
    lines.append("| precision | " + " | ".join(_num(s.precision) for s in scores.values()) + " |")
    lines += ["", "| entity | values | " + " | ".join(f"{s} recall | {s} precision | {s} leak" for s in systems)
              + " |", "|---|---|" + "---|---|---|" * len(systems)]
    kinds = sorted({k for s in scores.values() for k in (*s.support, *s.pred_by_type)},
                   key=lambda k: (k not in set(PERSONAL.values()), k))
    for kind in kinds:
        first = next(iter(scores.values()))
        cells = [f"{_num(s.recall_of(kind))} | {_num(s.precision_of(kind))} | {_pct(s.leak_of(kind))}"
                 for s in scores.values()]
        lines.append(f"| {kind} | {first.support[kind]} | " + " | ".join(cells) + " |")
    if misses:
        for system, score in scores.items():
            lines += ["", f"Missed values of {system}, by type and shape (A: capital, a: lower, 9: digit, +: run):"]
            for kind, shapes in sorted(score.misses.items()):
                top = ", ".join(f"`{shape}`×{count}" for shape, count in shapes.most_common(8))
                lines.append(f"- {kind} ({sum(shapes.values())}): {top}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Leak rate, over-redaction, precision/recall: ours vs Presidio.")
    parser.add_argument("--corpus", choices=["en", "es", "all"], default="all")
    parser.add_argument("--pack", action="append", dest="packs", help="Packs to merge (default: gdpr hipaa pci-dss).")
    parser.add_argument("--en-file", type=Path, help="Another English corpus (e.g. a held-out seed of "
                        "generate_corpus.py) instead of the committed one.")
    parser.add_argument("--es-file", type=Path, help="Another Spanish corpus instead of the shared tickets.")
    parser.add_argument("--limit", type=int, help="Only the first N texts of each corpus.")
    parser.add_argument("--no-presidio", action="store_true", help="Skip the Presidio baseline.")
    parser.add_argument("--misses", action="store_true", help="List the shapes of missed values per type.")
    parser.add_argument("--json", type=Path, help="Also write the headline figures to this JSON file.")
    args = parser.parse_args(argv)

    names = ["en", "es"] if args.corpus == "all" else [args.corpus]
    paths = {"en": args.en_file or CORPORA["en"], "es": args.es_file or CORPORA["es"]}
    corpora = {}
    for name in names:
        if not paths[name].is_file():
            print(f"skipping the {name} corpus: {paths[name]} not found "
                  "(the Spanish tickets live in ../shared/data beside the repository)", file=sys.stderr)
            continue
        corpora[name] = load_corpus(paths[name], args.limit)
    packs = tuple(args.packs or DEFAULT_PACKS)
    results: dict[str, dict[str, Score]] = {name: {} for name in corpora}
    systems: list[tuple[str, Any]] = [("aduana", lambda: aduana_system(packs))]
    if not args.no_presidio:
        systems.append(("presidio", presidio_system))
    for system, make in systems:
        with make() as findings:
            for name, samples in corpora.items():
                started = time.perf_counter()
                results[name][system] = evaluate(samples, findings)
                print(f"{system} on {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    print(f"Packs: {' + '.join(packs)}\n")
    for name, scores in results.items():
        title = {"en": "English (presidio-evaluator generator)", "es": "Spanish support tickets"}[name]
        print(report(title, len(corpora[name]), scores, args.misses) + "\n")
    if args.json:
        figures = {name: {system: {"leak_rate": s.leak_rate, "over_redaction": s.over_redaction,
                                   "precision": s.precision, "values": s.values}
                          for system, s in scores.items()} for name, scores in results.items()}
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
