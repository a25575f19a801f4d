"""Check that the workers' speed-ups change no finding: tuned vs plain analyzer, text by text.

The workers (``gateway/inspect/detect.py``) disable spaCy components nothing reads, analyze each
distinct text of a message once, run spaCy in batches (and on Spanish texts only where context
scoring reads it), and skip patterns whose cues are missing (``gateway/inspect/precheck.py``).
This script runs the same requests through a plain ``Analyzer.analyze`` and through
``analyze_message`` on the tuned analyzer (each message alone, and the performance corpus's messages
also several per call, as a busy worker gets them), and lists every text whose findings (type, start,
end, score) differ. Findings that differ only in the name of the
recognizer are counted apart: when two recognizers report the same span, type and score, Presidio
keeps one of them arbitrarily. Inputs: the performance corpus (every size class, as the gateway plans it
under ``gdpr`` + ``hipaa`` + ``pci-dss``) and the accuracy benchmark's English corpus (one message of all
its texts, language detected per text).

    .venv/bin/python bench/perf/check_equivalence.py [--limit N]

It also checks the gateway's normalization fast path (``gateway/inspect/normalize.py``) on every raw
text of both corpora: same normalized text and the same original span for every character.

Exit status 0 when every finding (and every normalization) is the same, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from corpus import generate  # noqa: E402
from profile_worker import PACKS, detect_requests  # noqa: E402

import gateway  # noqa: E402, F401  (keeps tldextract offline; must come before presidio)

#: Messages per call in the batched comparison (as a worker gets them when several are queued).
BATCH = 8


def accuracy_requests(limit: int | None) -> list[Any]:
    """The accuracy corpus's texts as DetectRequests under the benchmark's packs (one message)."""
    from gateway.inspect.analyzer import DetectRequest
    from gateway.inspect.language import detect_language
    from gateway.inspect.normalize import normalize
    from gateway.pluginmanager import load_plugins
    from gateway.policy.loader import PackLibrary

    policy = PackLibrary(load_plugins(entry_points=False).policy_packs()).effective(list(PACKS))
    thresholds = {t: r.min_score for t, r in policy.entities.items()}
    path = ROOT / "bench" / "accuracy" / "corpus_en.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for row in rows[:limit]:
        text = normalize(row["text"]).text
        out.append(DetectRequest(text, detect_language(text, policy.languages), tuple(policy.entity_types),
                                 thresholds))
    return out


def raw_texts(limit: int | None) -> list[str]:
    """Every string value of the performance corpus's bodies and every accuracy text, unnormalized."""

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return []

    out = [s for bodies in generate().values() for body in bodies[:limit] for s in strings(body)]
    path = ROOT / "bench" / "accuracy" / "corpus_en.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out + [row["text"] for row in rows[:limit]]


def normalize_differences(texts: list[str]) -> int:
    """Texts where the fast path and the character pass disagree (text, or any character's span)."""
    from gateway.inspect.normalize import _normalize_slow, normalize

    differ = 0
    for text in texts:
        fast, slow = normalize(text), _normalize_slow(text)
        n = len(fast.text)
        if fast.text != slow.text or any(fast.span(i, i + 1) != slow.span(i, i + 1) for i in range(n)) or (
                fast.span(0, n) != slow.span(0, n)):
            differ += 1
    return differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--limit", type=int, help="Only the first N bodies per size class and N accuracy texts.")
    args = parser.parse_args()

    from gateway.inspect.analyzer import Analyzer
    from gateway.inspect.detect import analyze_message, load_worker_analyzer
    from gateway.inspect.normalize import normalize

    plain = Analyzer.from_plugins()
    tuned, prefetch = load_worker_analyzer()
    messages: list[tuple[str, list[Any]]] = []
    for label, bodies in generate().items():
        for i, (_, requests) in enumerate(detect_requests(bodies[:args.limit])):
            messages.append((f"perf {label} body {i}", requests))
    messages.append(("accuracy corpus_en", accuracy_requests(args.limit)))
    texts = differ = tie_breaks = 0

    def core(findings: list[Any]) -> list[tuple[str, int, int, float]]:
        return [(f.entity_type, f.start, f.end, f.score) for f in findings]

    # A worker under load gets several queued messages in one call (gateway/inspect/pool.py): the
    # performance corpus's messages are also analyzed BATCH at a time, each compared with the plain run.
    batched: dict[int, list[Any]] = {}
    perf = [i for i, (name, _) in enumerate(messages) if name.startswith("perf")]
    for k in range(0, len(perf), BATCH):
        group = perf[k:k + BATCH]
        flat = analyze_message(tuned, prefetch, [r for i in group for r in messages[i][1]])
        for i in group:
            batched[i], flat = flat[:len(messages[i][1])], flat[len(messages[i][1]):]

    for index, (name, requests) in enumerate(messages):
        expected = plain.analyze(requests)
        variants = [("tuned", analyze_message(tuned, prefetch, requests))]
        if index in batched:
            variants.append(("batched", batched[index]))
        for variant, got in variants:
            for req, a, b in zip(requests, expected, got, strict=True):
                texts += 1
                if a != b and core(a) == core(b):
                    tie_breaks += 1
                elif a != b:
                    differ += 1
                    only_plain = sorted(set(a) - set(b), key=lambda f: f.start)
                    only_tuned = sorted(set(b) - set(a), key=lambda f: f.start)
                    print(f"{name} [{req.language}]: plain only "
                          f"{[(f.entity_type, req.text[f.start:f.end], round(f.score, 2)) for f in only_plain]}, "
                          f"{variant} only "
                          f"{[(f.entity_type, req.text[f.start:f.end], round(f.score, 2)) for f in only_tuned]}")
    print(f"{texts} texts compared ({len(batched)} messages both alone and {BATCH} per call), {differ} with "
          f"different findings ({tie_breaks} more where only the recognizer's name of a tied finding differs)")
    raw = raw_texts(args.limit)
    fast = sum(normalize(t).identity for t in raw)
    norm_differ = normalize_differences(raw)
    print(f"normalization: {len(raw)} raw texts, {norm_differ} where the fast path differs from the character "
          f"pass; {fast} returned unchanged")
    return 1 if differ or norm_differ else 0


if __name__ == "__main__":
    sys.exit(main())
