"""Profile what an inspection worker does with the benchmark corpus, without HTTP in the way.

The bodies are parsed by the gateway's own JSON content handler and planned by ``plan_detection`` under
the merged ``gdpr`` + ``hipaa`` + ``pci-dss`` policy, exactly as a request on route (c) would be; then
what a worker runs for one message (:func:`gateway.inspect.detect.analyze_message` over the analyzer
as the workers load it) runs over them in this process. ``--untuned`` runs the plain
``Analyzer.analyze`` instead (every spaCy component, one text at a time, no deduplication): the
"before" of docs/performance.md. Prints CPU seconds per MB of body and the top functions by cumulative
time (cProfile: the standard library's, so nothing to install).

    .venv/bin/python bench/perf/profile_worker.py --size 2KB --seconds 20 [--untuned] [--no-profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import generate  # noqa: E402

import gateway  # noqa: E402, F401  (keeps tldextract offline; must come before presidio)

PACKS = ("gdpr", "hipaa", "pci-dss")


def detect_requests(bodies: list[dict[str, Any]]) -> list[tuple[int, list[Any]]]:
    """(body bytes, the DetectRequests the gateway would send a worker) for each body."""
    from gateway.inspect.transform import plan_detection
    from gateway.pluginmanager import load_plugins
    from gateway.policy.loader import PackLibrary

    plugins = load_plugins(entry_points=False)
    policy = PackLibrary(plugins.policy_packs()).effective(list(PACKS))
    handler = next(h for h in plugins.content_handlers() if "application/json" in h.media_types)
    out = []
    for body in bodies:
        raw = json.dumps(body, ensure_ascii=False).encode()
        doc = handler.parse(raw, media_type="application/json", charset="utf-8")
        out.append((len(raw), [req for _, req in plan_detection(doc.parts, policy)]))
    return out


class Breakdown:
    """CPU seconds spent in spaCy, in each recognizer and in context scoring (wrapping their methods)."""

    def __init__(self, analyzer: Any, top: int = 25) -> None:
        self.spent: dict[str, float] = {}
        self.top = top
        engine = analyzer.engine
        for recognizer in engine.registry.recognizers:
            self._wrap(recognizer, "analyze", f"recognizer {type(recognizer).__name__}")
        self._wrap(engine.nlp_engine, "process_text", "spaCy")
        self._wrap(engine.nlp_engine, "process_batch", "spaCy", generator=True)
        self._wrap(engine.context_aware_enhancer, "enhance_using_context", "context scoring")

    def _wrap(self, obj: Any, name: str, label: str, generator: bool = False) -> None:
        original = getattr(obj, name)
        spent = self.spent

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            result = original(*args, **kwargs)
            if generator:  # process_batch yields lazily: its work happens while iterating
                result = list(result)
            spent[label] = spent.get(label, 0.0) + time.process_time() - t0
            return result

        setattr(obj, name, timed)

    def report(self, total: float) -> str:
        recognizers = sum(v for k, v in self.spent.items() if k.startswith("recognizer "))
        # A recognizer's time includes the spaCy call it may trigger only in the plain path (none do).
        rows = [("spaCy", self.spent.get("spaCy", 0.0)), ("recognizers (all)", recognizers),
                ("context scoring", self.spent.get("context scoring", 0.0))]
        rows.append(("rest (Presidio bookkeeping, our wrapper)", total - sum(v for _, v in rows)))
        top = sorted(((k, v) for k, v in self.spent.items() if k.startswith("recognizer ")), key=lambda kv: -kv[1])
        lines = [f"  {name:<45} {seconds:7.2f} s {100 * seconds / total:5.1f}%" for name, seconds in rows]
        lines += [f"    {name:<43} {seconds:7.2f} s {100 * seconds / total:5.1f}%" for name, seconds in top[:self.top]]
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", default="2KB", help="Size class of the corpus (0.5KB, 2KB, 20KB).")
    parser.add_argument("--seconds", type=float, default=10.0, help="Profile at least this long (CPU time).")
    parser.add_argument("--top", type=int, default=25, help="Rows of the profile, or recognizers of --breakdown.")
    parser.add_argument("--no-profile", action="store_true", help="Only measure CPU s/MB (no profiler overhead).")
    parser.add_argument("--untuned", action="store_true", help="Plain Analyzer.analyze (the code before tuning).")
    parser.add_argument("--breakdown", action="store_true",
                        help="Instead of a profile: CPU time in spaCy, in each recognizer, in context scoring, rest.")
    args = parser.parse_args()

    from gateway.inspect.analyzer import Analyzer
    from gateway.inspect.detect import analyze_message, load_worker_analyzer

    if args.untuned:
        analyzer = Analyzer.from_plugins()
        run: Any = analyzer.analyze
    else:
        analyzer, prefetch = load_worker_analyzer()
        gc.freeze()  # as the worker does after loading

        def run(requests: list[Any]) -> Any:
            return analyze_message(analyzer, prefetch, requests)

    work = detect_requests(generate()[args.size])
    run(work[0][1])  # warm up
    timers = Breakdown(analyzer, args.top) if args.breakdown else None
    profiler: Any = None
    if not args.no_profile and not args.breakdown:
        profiler = cProfile.Profile()
        profiler.enable()
    cpu0, size, bodies, texts = time.process_time(), 0, 0, 0
    while time.process_time() - cpu0 < args.seconds or bodies < len(work):
        nbytes, requests = work[bodies % len(work)]
        run(requests)
        size, bodies, texts = size + nbytes, bodies + 1, texts + len(requests)
    cpu = time.process_time() - cpu0
    if profiler is not None:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    if timers is not None:
        print(timers.report(cpu))
    mode = "untuned" if args.untuned else "tuned"
    print(f"{args.size} ({mode}): {bodies} bodies, {texts} texts analyzed, {size / 1024:.0f} KB in {cpu:.2f} CPU s "
          f"= {cpu / (size / 1024 / 1024):.1f} CPU s/MB ({size / 1024 / cpu:.1f} KB per CPU s)"
          + (" [profiler on: slower than real]" if profiler is not None else ""))


if __name__ == "__main__":
    main()
