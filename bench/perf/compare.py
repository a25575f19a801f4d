"""Two versions of the gateway side by side: the same passes, interleaved, repeated, on one machine.

On a shared machine the load changes from minute to minute, so a "before" run and an "after" run made
ten minutes apart compare the load as much as the code. This starts one upstream and two ``aduana serve``
processes, *base* (a git commit, exported to a temporary folder and put first on ``PYTHONPATH``) and
*head* (this working tree), each with its own state folder, and alternates their passes round by round
(base first in odd rounds, head first in even ones). Per round it also measures (a), the upstream
directly, so each (b) figure is compared with the (a) measured next to it.

Passes: (b) pass-through with 1 and ``--concurrency`` clients per size; with ``--inspect``, (c) with
``--concurrency`` clients (CPU seconds per MB, the gateway's and the workers' apart, and the gateway's
CPU per request) and the health probe running (health p50/p99 while the workers are saturated). The
probe's own requests cost the gateway CPU too: ``--no-health`` leaves it out, to compare the
inspection path's CPU alone. Reports each round and the median over rounds.

    .venv/bin/python bench/perf/compare.py --base 13bef94 --sizes 2KB --rounds 5 --duration 5
    .venv/bin/python bench/perf/compare.py --base 13bef94 --sizes 2KB --rounds 3 --inspect --no-pass
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import procstat  # noqa: E402
from corpus import SIZES, generate  # noqa: E402
from run import commit, measure, targets  # noqa: E402
from stack import ROOT, UPSTREAM_TOKEN, Stack  # noqa: E402


def export(ref: str, into: Path) -> str:
    """Write the tree of ``ref`` into ``into``; return its short hash."""
    rev = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return rev


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def rounds(stacks: dict[str, Stack], corpus: dict[str, list[dict[str, Any]]], args: argparse.Namespace,
                 log: Any) -> list[dict[str, Any]]:
    any_stack = next(iter(stacks.values()))
    direct = targets(corpus, any_stack.upstream_url)
    up_auth = {"Authorization": f"Bearer {UPSTREAM_TOKEN}"}
    out = []
    for n in range(args.rounds):
        order = list(stacks) if n % 2 == 0 else list(reversed(stacks))
        result: dict[str, Any] = {"order": order, "loadavg_1m": procstat.loadavg()[0]}
        for label in args.sizes:
            if args.passthrough:
                for conc in (1, args.concurrency):
                    key = f"{label}/{conc}"
                    result.setdefault("a", {})[key] = await measure(None, direct[label], up_auth, args,
                                                                    concurrency=conc)
                    for name in order:
                        stack = stacks[name]
                        pool = targets(corpus, f"{stack.vendor_url}/pass")[label]
                        auth = {"Authorization": f"Bearer {stack.keys['bench-pass']}"}
                        result.setdefault(name, {}).setdefault("b", {})[key] = await measure(
                            stack, pool, auth, args, concurrency=conc)
            if args.inspect:
                for name in order:
                    stack = stacks[name]
                    pool = targets(corpus, f"{stack.vendor_url}/full")[label]
                    auth = {"Authorization": f"Bearer {stack.keys['bench-full']}"}
                    result.setdefault(name, {}).setdefault("c", {})[label] = await measure(
                        stack, pool, auth, args, concurrency=args.concurrency, health=args.health)
        log(f"round {n + 1}/{args.rounds} done (load {procstat.loadavg()[0]:.1f})")
        out.append(result)
    return out


def render(results: dict[str, Any]) -> str:
    names = results["names"]
    lines = [f"base {results['base']} vs head {results['head']}; {results['rounds_n']} rounds; "
             f"load average {results['loadavg_start']} → {results['loadavg_end']}; {results['command']}", ""]
    runs = results["rounds"]
    if results["settings"]["passthrough"]:
        lines += ["| size/clients | version | req/s | p50 ms | p99 ms | added p50 / p99 vs (a), per round | "
                  "median added p50 / p99 |", "| --- | --- | ---: | ---: | ---: | --- | ---: |"]
        for key in runs[0]["a"]:
            a_p50 = [r["a"][key]["p50_ms"] for r in runs]
            lines.append(f"| {key} | (a) upstream | {median([r['a'][key]['rps'] for r in runs]):.0f} | "
                         f"{median(a_p50):.2f} | {median([r['a'][key]['p99_ms'] for r in runs]):.2f} | | |")
            for name in names:
                bs = [r[name]["b"][key] for r in runs]
                added = [(b["p50_ms"] - r["a"][key]["p50_ms"], b["p99_ms"] - r["a"][key]["p99_ms"])
                         for b, r in zip(bs, runs, strict=True)]
                per_round = ", ".join(f"{p:+.2f}/{q:+.1f}" for p, q in added)
                lines.append(
                    f"| {key} | (b) {name} | {median([b['rps'] for b in bs]):.0f} | "
                    f"{median([b['p50_ms'] for b in bs]):.2f} | {median([b['p99_ms'] for b in bs]):.2f} | "
                    f"{per_round} | **{median([p for p, _ in added]):+.2f} / {median([q for _, q in added]):+.1f}** |")
        lines.append("")
    if results["settings"]["inspect"]:
        health = results["settings"].get("health", True)
        lines += ["| size | version | (c) req/s | CPU s/MB | gateway CPU s/MB | gateway CPU ms/request | "
                  "worker CPU s/MB | health p50 / p99 / max ms, per round | median health p99 | "
                  "idle reference p99, per round |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"]
        for label in runs[0][names[0]]["c"]:
            for name in names:
                cs = [r[name]["c"][label] for r in runs]
                gw = [c["cpu_s"].get("gateway", 0.0) / c["body_mb"] for c in cs]
                gw_ms = [c["cpu_s"].get("gateway", 0.0) / c["ok"] * 1000 for c in cs if c["ok"]]
                wk = [c["cpu_s"].get("inspection-worker", 0.0) / c["body_mb"] for c in cs]
                if health:
                    per_round = ", ".join(f"{c['health']['p50_ms']:.1f}/{c['health']['p99_ms']:.1f}/"
                                          f"{c['health']['max_ms']:.0f}" for c in cs)
                    reference = ", ".join(f"{c['health_reference']['p99_ms']:.1f}" for c in cs)
                    p99 = f"**{median([c['health']['p99_ms'] for c in cs]):.1f}**"
                else:  # no probe: the gateway's CPU is the requests' alone
                    per_round = reference = p99 = "–"
                lines.append(f"| {label} | {name} | {median([c['rps'] for c in cs]):.1f} | "
                             f"{median([c['cpu_s_per_mb'] for c in cs]):.1f} | {median(gw):.2f} | "
                             f"{median(gw_ms):.2f} ({', '.join(f'{x:.1f}' for x in gw_ms)}) | {median(wk):.1f} | "
                             f"{per_round} | {p99} | {reference} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--base", default="HEAD", help="Git commit of the 'base' gateway ('.': this working tree).")
    parser.add_argument("--base-env", action="append", default=[], metavar="NAME=VALUE",
                        help="Extra environment of the base gateway (repeatable).")
    parser.add_argument("--head-env", action="append", default=[], metavar="NAME=VALUE",
                        help="Extra environment of the head gateway (repeatable).")
    parser.add_argument("--base-config", default="{}", help="JSON merged into the base gateway's config.")
    parser.add_argument("--head-config", default="{}", help="JSON merged into the head gateway's config.")
    parser.add_argument("--wrap", default="", help="Run each gateway's CLI through this Python script.")
    parser.add_argument("--sizes", default="2KB")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0, help="Seconds per pass.")
    parser.add_argument("--min-requests", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="Inspection workers of each gateway.")
    parser.add_argument("--inspect", action="store_true", help="Also (c) with the health probe.")
    parser.add_argument("--no-pass", dest="passthrough", action="store_false", help="Skip (a)/(b).")
    parser.add_argument("--no-health", dest="health", action="store_false",
                        help="Run (c) without the health probe. The probe polls the gateway every "
                             "--health-interval (100 requests/s by default), ~0.06 CPU s per second of "
                             "gateway CPU on a 2-vCPU VM: a third of the gateway's CPU per (c) request at "
                             "2 KB with one worker. Use this to compare the inspection path's own CPU.")
    parser.add_argument("--health-interval", type=float, default=0.01)
    parser.add_argument("--sqlite-synchronous", choices=("full", "normal"), default="full")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.sizes = [s for s in args.sizes.split(",") if s]
    if any(s not in SIZES for s in args.sizes):
        parser.error(f"known sizes: {', '.join(SIZES)}")
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    corpus = generate()
    with tempfile.TemporaryDirectory(prefix="aduana-compare-") as tmp:
        base_src = Path(tmp) / "base-src"
        base = commit() if args.base == "." else export(args.base, base_src)
        base_env = dict(e.split("=", 1) for e in args.base_env)
        if args.base != ".":
            base_env["PYTHONPATH"] = str(base_src)
        head_env = dict(e.split("=", 1) for e in args.head_env)
        corpus_path = Path(tmp) / "corpus.json"
        corpus_path.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
        results: dict[str, Any] = {
            "base": base, "head": commit(), "names": ["base", "head"], "rounds_n": args.rounds,
            "command": " ".join(["bench/perf/compare.py", *(sys.argv[1:] if argv is None else argv)]),
            "machine": procstat.machine(), "loadavg_start": procstat.loadavg(),
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        }
        stacks = {
            "base": Stack(Path(tmp) / "base", corpus_path, synchronous=args.sqlite_synchronous, env=base_env,
                          overrides=json.loads(args.base_config)),
            "head": Stack(Path(tmp) / "head", corpus_path, synchronous=args.sqlite_synchronous, env=head_env,
                          overrides=json.loads(args.head_config)),
        }
        wrap = [sys.executable, args.wrap] if args.wrap else None
        try:
            stacks["base"].start_upstream()
            stacks["head"].upstream_port = stacks["base"].upstream_port  # one upstream for both
            for name, stack in stacks.items():
                log(f"starting {name}")
                stack.start_gateway(args.workers, wrap=wrap)

            async def go() -> list[dict[str, Any]]:
                for stack in stacks.values():  # every corpus value through each vault once
                    pool = targets(corpus, f"{stack.vendor_url}/full")
                    auth = {"Authorization": f"Bearer {stack.keys['bench-full']}"}
                    if args.inspect:
                        from closed_loop import warm_up

                        for label in args.sizes:
                            await warm_up(pool[label], auth, requests=len(pool[label]), concurrency=args.concurrency)
                return await rounds(stacks, corpus, args, log)

            results["rounds"] = asyncio.run(go())
        finally:
            for stack in stacks.values():
                stack.close()
        results["loadavg_end"] = procstat.loadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
