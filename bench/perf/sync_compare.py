"""Systems (a) and (b) with ``store.sqlite.synchronous`` ``full`` and then ``normal``, back to back.

(b)'s cost is mostly the audit record's durable commit (docs/performance.md): this shows what the
``normal`` trade-off buys, on the same machine, corpus and load generator as ``run.py``. Each setting gets
a fresh state folder and gateway (one inspection worker; (b) does not use it).

    .venv/bin/python bench/perf/sync_compare.py --sizes 2KB --duration 10 --json sync.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import procstat  # noqa: E402
from corpus import SIZES, generate  # noqa: E402
from run import commit, measure, targets  # noqa: E402
from stack import UPSTREAM_TOKEN, Stack  # noqa: E402


async def one_setting(
    stack: Stack, corpus: dict[str, list[dict[str, Any]]], args: argparse.Namespace
) -> dict[str, Any]:
    stack.start_gateway(1)
    direct = targets(corpus, stack.upstream_url)
    passed = targets(corpus, f"{stack.vendor_url}/pass")
    auths = {"a": {"Authorization": f"Bearer {UPSTREAM_TOKEN}"},
             "b": {"Authorization": f"Bearer {stack.keys['bench-pass']}"}}
    out: dict[str, Any] = {}
    for label in args.sizes:
        for system, pool in (("a", direct), ("b", passed)):
            for conc in (1, args.concurrency):
                out.setdefault(label, {}).setdefault(system, {})[str(conc)] = await measure(
                    stack if system == "b" else None, pool[label], auths[system], args, concurrency=conc)
    stack.stop_gateway()
    return out


def render(results: dict[str, Any]) -> str:
    lines = [f"commit {results['commit']}; load average {results['loadavg_start']} → {results['loadavg_end']}", "",
             "| size | synchronous | system | clients | req/s | p50 ms | p95 ms | p99 ms | added p50 / p99 vs (a) |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for sync, by_size in results["runs"].items():
        for label, systems in by_size.items():
            for conc, b in systems["b"].items():
                a = systems["a"][conc]
                for name, r in (("(a) upstream", a), ("(b) pass-through", b)):
                    added = (f"+{b['p50_ms'] - a['p50_ms']:.2f} / +{b['p99_ms'] - a['p99_ms']:.1f}"
                             if r is b else "–")
                    lines.append(f"| {label} | {sync} | {name} | {conc} | {r['rps']:.0f} | {r['p50_ms']:.2f} | "
                                 f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {added} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="2KB")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--min-requests", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--per-class", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--health-interval", type=float, default=0.01)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.sizes = [s for s in args.sizes.split(",") if s]
    if any(s not in SIZES for s in args.sizes):
        parser.error(f"known sizes: {', '.join(SIZES)}")
    results: dict[str, Any] = {"commit": commit(), "machine": procstat.machine(),
                               "loadavg_start": procstat.loadavg(), "runs": {}}
    corpus = generate(args.seed, args.per_class)
    for sync in ("full", "normal"):
        with tempfile.TemporaryDirectory(prefix="aduana-sync-") as tmp:
            corpus_path = Path(tmp) / "corpus.json"
            corpus_path.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
            with Stack(Path(tmp) / "state", corpus_path, synchronous=sync) as stack:
                stack.start_upstream()
                print(f"synchronous={sync}", file=sys.stderr, flush=True)
                results["runs"][sync] = asyncio.run(one_setting(stack, corpus, args))
    results["loadavg_end"] = procstat.loadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
