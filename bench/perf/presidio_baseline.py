"""System (d): plain Presidio in one process over the same texts — the baseline inspection is compared to.

``AnalyzerEngine`` with its defaults (predefined recognizers, every entity type, language ``en``, no score
threshold) except the spaCy model: its default ``en_core_web_lg`` is not installed, so it gets the small
English model the gateway uses, as ``bench/accuracy`` does. Then ``AnonymizerEngine().anonymize`` with its
default operator (replace by ``<TYPE>``). The texts are every string value of the same JSON bodies the
gateway inspects, one body after the other.

Run as ``python bench/perf/presidio_baseline.py --corpus FILE --seconds S`` (a subprocess of the runner,
so its memory and CPU are its own); prints JSON ``{size: {bodies, texts, bytes, wall_s, cpu_s, ...}}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import strings  # noqa: E402
from procstat import memory_mb  # noqa: E402

import gateway  # noqa: E402, F401  (keeps tldextract offline; must come before presidio)


def load_engines() -> tuple[Any, Any]:
    """Presidio's analyzer (defaults, small English model) and anonymizer."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from gateway.inspect.analyzer import SPACY_MODEL

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    logging.getLogger("presidio-anonymizer").setLevel(logging.ERROR)
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]), AnonymizerEngine()


def protect(analyzer: Any, anonymizer: Any, text: str) -> str:
    """What a Presidio user writes: analyze, then anonymize with the findings."""
    results = analyzer.analyze(text=text, language="en")
    return str(anonymizer.anonymize(text=text, analyzer_results=results).text)


def measure(bodies: list[dict[str, Any]], analyzer: Any, anonymizer: Any, seconds: float) -> dict[str, float]:
    """Protect every text of ``bodies`` in turn, whole bodies at a time, for at least ``seconds``."""
    done = texts = size = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while True:
        body = bodies[done % len(bodies)]
        for text in strings(body):
            protect(analyzer, anonymizer, text)
            texts += 1
        size += len(json.dumps(body, ensure_ascii=False).encode())
        done += 1
        if time.perf_counter() - wall0 >= seconds and done >= min(len(bodies), 3):
            break
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"bodies": done, "texts": texts, "bytes": size, "wall_s": wall, "cpu_s": cpu,
            "bodies_per_s": done / wall, "texts_per_s": texts / wall, "kb_per_s": size / 1024 / wall,
            "kb_per_cpu_s": size / 1024 / cpu, "cpu_s_per_mb": cpu / (size / 1024 / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=5.0, help="Minimum time per size class.")
    parser.add_argument("--sizes", help="Comma-separated size labels (default: all).")
    args = parser.parse_args()
    corpus = json.loads(args.corpus.read_text(encoding="utf-8"))
    sizes = args.sizes.split(",") if args.sizes else list(corpus)
    analyzer, anonymizer = load_engines()
    for text in strings(corpus[sizes[0]][0]):  # warm up: first-call costs are not throughput
        protect(analyzer, anonymizer, text)
    out: dict[str, Any] = {}
    for label in sizes:
        out[label] = measure(corpus[label], analyzer, anonymizer, args.seconds)
    rss, peak = memory_mb(__import__("os").getpid())
    out["_memory"] = {"rss_mb": rss, "peak_rss_mb": peak}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
