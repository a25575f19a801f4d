"""Performance benchmark: the same ticket corpus through four systems, on one machine, in one run.

(a) the example upstream directly; (b0) a bare aiohttp reverse proxy (``bare_proxy.py``: the floor under
any proxy on this stack, for reference); (b) Aduana on a route whose policy passes JSON uninspected (the
proxy's own cost); (c) Aduana with ``gdpr`` + ``hipaa`` + ``pci-dss`` (full inspection, tokens and audit);
(d) plain Presidio in one process (``AnalyzerEngine`` defaults + ``AnonymizerEngine``) over every text of
the same bodies. Per payload size (0.5, 2 and 20 KB; English and Spanish tickets from ``corpus.py``) it
prints requests/s, KB/s, p50/p95/p99 latency, the latency Aduana adds over (a), CPU seconds per MB,
peak memory per worker, the ratios c/d and b/a, how (c) scales with inspection workers, and how fast a
health check answers while the workers are saturated. ``--soak-seconds`` adds a memory soak.

The gateway is a real ``aduana serve`` subprocess (``inspection.workers: N``); the load is a bounded
asyncio client (``closed_loop.py``); CPU and memory come from ``/proc``. See docs/performance.md.

    .venv/bin/python bench/perf/run.py                       # defaults: a few minutes
    .venv/bin/python bench/perf/run.py --workers 1,2 --duration 10 --json perf.json
    .venv/bin/python bench/perf/run.py --soak-seconds 600    # plus the 10-minute memory soak
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "load"))

import procstat  # noqa: E402
from closed_loop import LoadResult, Target, run_load, warm_up  # noqa: E402
from corpus import SIZES, generate  # noqa: E402
from record_cost import append_latencies  # noqa: E402
from report import render  # noqa: E402
from stack import ROOT, UPSTREAM_TOKEN, Stack  # noqa: E402


def targets(corpus: dict[str, list[dict[str, Any]]], base: str) -> dict[str, list[Target]]:
    """Size label → one URL per ticket under ``base``, with the upstream body's size."""
    return {label: [Target(f"{base}/api/tickets/{t['id']}", len(json.dumps(t, ensure_ascii=False).encode()))
                    for t in tickets] for label, tickets in corpus.items()}


def summarize(result: LoadResult) -> dict[str, Any]:
    return {"concurrency": result.concurrency, "seconds": round(result.seconds, 3), "ok": result.ok,
            "errors": result.errors, "statuses": {str(k): v for k, v in result.statuses.items()},
            "rps": result.rps, "kb_per_s": result.kb_per_s, "body_mb": result.body_bytes / 1024 / 1024,
            "p50_ms": result.percentile(50), "p95_ms": result.percentile(95), "p99_ms": result.percentile(99)}


class HealthProbe:
    """``healthprobe.py`` in its own process, polling the admin listener while a pass runs."""

    def __init__(self, url: str, interval: float) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "healthprobe.py"), url, "--interval", str(interval)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stderr is not None
        self.proc.stderr.readline()  # "ready": the interpreter is up and polling

    def stop(self) -> dict[str, Any]:
        from closed_loop import percentile

        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        data = json.loads(out)
        lat = data["latencies_ms"]
        return {"probes": len(lat), "errors": data["errors"], "p50_ms": percentile(lat, 50),
                "p99_ms": percentile(lat, 99), "max_ms": max(lat) if lat else float("nan"),
                "over_10ms": sum(v > 10 for v in lat)}


async def measure(stack: Stack | None, pool: list[Target], headers: dict[str, str], args: argparse.Namespace, *,
                  concurrency: int, health: bool = False) -> dict[str, Any]:
    """One pass: warm up, then load; with ``stack``, also the gateway tree's CPU and the health probe."""
    await warm_up(pool, headers, requests=max(2 * concurrency, 4), concurrency=concurrency)
    before = procstat.tree(stack.gateway.pid) if stack and stack.gateway else []
    probe = HealthProbe(f"{stack.admin_url}/healthz", args.health_interval) if stack and health else None
    # The same probe against the upstream (a small aiohttp app, nearly idle during (c)): the machine's own
    # scheduling noise, which every probe pays whatever the gateway does.
    reference = HealthProbe(f"{stack.upstream_url}/healthz", args.health_interval) if stack and health else None
    load0 = procstat.loadavg()[0]
    result = await run_load(pool, headers, concurrency=concurrency, duration=args.duration,
                            min_requests=args.min_requests)
    out = summarize(result)
    out["loadavg_1m"] = [load0, procstat.loadavg()[0]]
    if probe is not None:
        out["health"] = probe.stop()
    if reference is not None:
        out["health_reference"] = reference.stop()
    if stack and stack.gateway:
        after = procstat.tree(stack.gateway.pid)
        cpu = procstat.cpu_by_role(before, after)
        out["cpu_s"] = cpu
        total = cpu.get("gateway", 0.0) + cpu.get("inspection-worker", 0.0)
        out["cpu_s_per_mb"] = total / out["body_mb"] if out["body_mb"] else float("nan")
        out["worker_busy"] = cpu.get("inspection-worker", 0.0) / (result.seconds * stack.workers)
    return out


def memory(stack: Stack) -> dict[str, Any]:
    assert stack.gateway is not None
    procs = procstat.tree(stack.gateway.pid)
    return {"gateway": [{"rss_mb": p.rss_mb, "peak_rss_mb": p.peak_rss_mb} for p in procs if p.role == "gateway"],
            "workers": [{"pid": p.pid, "rss_mb": p.rss_mb, "peak_rss_mb": p.peak_rss_mb}
                        for p in procs if p.role == "inspection-worker"]}


async def soak(stack: Stack, pool: list[Target], headers: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Saturate the workers for ``--soak-seconds``; sample each worker's RSS every ``--soak-sample`` seconds."""
    assert stack.gateway is not None
    await warm_up(pool, headers, requests=2 * len(pool), concurrency=args.concurrency)
    samples: list[dict[str, Any]] = []
    started = time.monotonic()

    async def sampler() -> None:
        while True:
            procs = procstat.tree(stack.gateway.pid) if stack.gateway else []
            samples.append({"t": round(time.monotonic() - started, 1),
                            "gateway_mb": sum(p.rss_mb for p in procs if p.role == "gateway"),
                            "workers_mb": [p.rss_mb for p in procs if p.role == "inspection-worker"]})
            await asyncio.sleep(args.soak_sample)

    task = asyncio.create_task(sampler())
    result = await run_load(pool, headers, concurrency=args.concurrency, duration=args.soak_seconds,
                            max_seconds=args.soak_seconds + 60)
    task.cancel()
    return {"size": args.soak_size, "workers": stack.workers, "load": summarize(result), "samples": samples}


async def http_systems(stack: Stack, corpus: dict[str, list[dict[str, Any]]], args: argparse.Namespace,
                       log: Any) -> dict[str, Any]:
    sizes = args.sizes
    direct = targets(corpus, stack.upstream_url)
    bare = targets(corpus, stack.bare_url)
    passed = targets(corpus, f"{stack.vendor_url}/pass")
    full = targets(corpus, f"{stack.vendor_url}/full")
    up_auth = {"Authorization": f"Bearer {UPSTREAM_TOKEN}"}
    out: dict[str, Any] = {"a": {}, "b0": {}, "b": {}, "c_latency": {}, "c": {}, "memory": {}, "soak": None}
    for i, workers in enumerate(args.workers):
        log(f"starting aduana serve with inspection.workers={workers}")
        stack.start_gateway(workers)
        pass_auth = {"Authorization": f"Bearer {stack.keys['bench-pass']}"}
        full_auth = {"Authorization": f"Bearer {stack.keys['bench-full']}"}
        if i == 0:
            for label in sizes:
                # Every value of the corpus goes through the vault once: the measured passes see the
                # steady state of a helpdesk whose customers write again (tokens looked up, not created).
                await warm_up(full[label], full_auth, requests=len(full[label]), concurrency=args.concurrency)
                for system, pool, auth in (("a", direct, up_auth), ("b0", bare, {}), ("b", passed, pass_auth)):
                    for conc in (1, args.concurrency):
                        log(f"({system}) {label} concurrency {conc}")
                        out[system].setdefault(label, {})[str(conc)] = await measure(
                            stack if system == "b" else None, pool[label], auth, args, concurrency=conc)
                log(f"(c) {label} concurrency 1")
                out["c_latency"][label] = await measure(stack, full[label], full_auth, args, concurrency=1)
        for label in sizes:
            # Throughput, CPU and scaling from a pass without the health probe: its 100 requests/s cost
            # the gateway CPU that is not inspection. Then the same load again with the probe running.
            log(f"(c) {label} workers {workers} concurrency {args.concurrency}")
            await warm_up(full[label], full_auth, requests=2 * workers, concurrency=workers)
            plain = await measure(stack, full[label], full_auth, args, concurrency=args.concurrency)
            log(f"(c) {label} workers {workers} concurrency {args.concurrency} + health probe")
            probed = await measure(stack, full[label], full_auth, args, concurrency=args.concurrency, health=True)
            plain["health"], plain["health_reference"] = probed["health"], probed["health_reference"]
            plain["with_probe"] = {k: probed.get(k) for k in ("rps", "p50_ms", "p99_ms", "cpu_s", "cpu_s_per_mb")}
            out["c"].setdefault(label, {})[str(workers)] = plain
        out["memory"][str(workers)] = memory(stack)
    if args.soak_seconds > 0:
        log(f"soak: (c) {args.soak_size} for {args.soak_seconds:.0f}s with {stack.workers} workers")
        out["soak"] = await soak(stack, full[args.soak_size], {"Authorization": f"Bearer {stack.keys['bench-full']}"},
                                 args)
    stack.stop_gateway()
    return out


def presidio(corpus_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """System (d) in its own process (``presidio_baseline.py``)."""
    cmd = [sys.executable, str(HERE / "presidio_baseline.py"), "--corpus", str(corpus_path),
           "--seconds", str(args.presidio_seconds), "--sizes", ",".join(args.sizes)]
    load0 = procstat.loadavg()[0]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"presidio baseline failed:\n{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout)
    data["_loadavg_1m"] = [load0, procstat.loadavg()[0]]
    return data


def commit() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--workers", default="1,2", help="Inspection worker counts to run (c) with.")
    parser.add_argument("--sizes", default=",".join(SIZES), help="Payload size classes.")
    parser.add_argument("--duration", type=float, default=5.0, help="Seconds per measured pass.")
    parser.add_argument("--min-requests", type=int, default=20, help="A pass goes on until this many completed.")
    parser.add_argument("--concurrency", type=int, default=8, help="Concurrent clients of the throughput passes.")
    parser.add_argument("--per-class", type=int, default=10, help="Tickets per size class and language.")
    parser.add_argument("--seed", type=int, default=7, help="Corpus seed.")
    parser.add_argument("--presidio-seconds", type=float, default=5.0, help="Seconds of (d) per size class.")
    parser.add_argument("--no-presidio", action="store_true", help="Skip (d).")
    parser.add_argument("--health-interval", type=float, default=0.01, help="Seconds between health probes.")
    parser.add_argument("--soak-seconds", type=float, default=0.0, help="Memory soak length (0: none).")
    parser.add_argument("--soak-size", default="2KB", help="Payload size of the soak.")
    parser.add_argument("--soak-sample", type=float, default=10.0, help="Seconds between the soak's RSS samples.")
    parser.add_argument("--state-dir", type=Path, help="Where the gateway keeps its store, keys and logs "
                        "(default: a new temporary folder, removed afterwards).")
    parser.add_argument("--sqlite-synchronous", choices=("full", "normal"), default="full",
                        help="The gateway's store.sqlite.synchronous (see docs/configuration.md).")
    parser.add_argument("--json", type=Path, help="Also write every figure to this JSON file.")
    parser.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in str(args.workers).split(",")]
    args.sizes = [s for s in str(args.sizes).split(",") if s]
    unknown = [s for s in args.sizes if s not in SIZES]
    if unknown or args.soak_size not in SIZES:
        parser.error(f"unknown size class {unknown or args.soak_size}; known: {', '.join(SIZES)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()

    def log(message: str) -> None:
        if not args.quiet:
            print(f"[{time.monotonic() - started:6.1f}s load {procstat.loadavg()[0]:.1f}] {message}",
                  file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="aduana-perf-") as tmp:
        state = args.state_dir or Path(tmp)
        state.mkdir(parents=True, exist_ok=True)
        corpus = generate(args.seed, args.per_class)
        corpus_path = state / "corpus.json"
        corpus_path.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
        results: dict[str, Any] = {
            "machine": procstat.machine(), "commit": commit(),
            "command": " ".join(["bench/perf/run.py", *(sys.argv[1:] if argv is None else argv)]),
            "date": time.strftime("%Y-%m-%d %H:%M %Z"), "loadavg_start": procstat.loadavg(),
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "corpus": {label: {"tickets": len(ts), "mean_bytes": sum(t.body_bytes for t in tg) / len(tg)}
                       for (label, ts), tg in zip(corpus.items(), targets(corpus, "").values(), strict=True)},
        }
        # The floor under (b): a pass-through request makes two durable audit appends in sequence.
        log(f"one audit append on this disk, synchronous={args.sqlite_synchronous}")
        results["disk"] = append_latencies(state, 300, args.sqlite_synchronous)
        with Stack(state, corpus_path, synchronous=args.sqlite_synchronous) as stack:
            log(f"state in {state}; starting the upstream")
            stack.start_upstream()
            stack.start_bare_proxy()
            results.update(asyncio.run(http_systems(stack, corpus, args, log)))
        if not args.no_presidio:
            log("(d) plain Presidio in one process")
            results["d"] = presidio(corpus_path, args)
        results["loadavg_end"] = procstat.loadavg()
        results["wall_seconds"] = round(time.monotonic() - started, 1)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
