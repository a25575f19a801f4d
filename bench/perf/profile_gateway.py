"""Profile the gateway process (event loop and store threads) under load on one route.

Starts the benchmark stack with ``aduana serve`` running under cProfile — one profiler per thread, so
the store thread pool (authentication, audit, vault) is seen as well as the event loop — loads route
(b) or (c) with one payload size, stops the gateway and prints the merged profile. The inspection
workers are separate processes: profile them with ``profile_worker.py``. The profile starts after the
warm-up (``--from-start`` to keep start-up: loading plugins, compiling patterns), and the summary line
gives the gateway's CPU per request over the measured load (with the profiler's own overhead).

    .venv/bin/python bench/perf/profile_gateway.py --system b --size 2KB --seconds 20 [--state-dir /dev/shm/x]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def serve_profiled(out: Path, argv: list[str]) -> None:
    """Run the ``aduana`` CLI with ``argv`` under one cProfile per thread; write the merged stats to ``out``."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_thread_profile(frame: Any, event: str, arg: Any) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()  # replaces this bootstrap hook for the rest of the thread's life

    threading.setprofile(start_thread_profile)
    main = cProfile.Profile()

    def restart(signum: int, frame: Any) -> None:
        # After the warm-up: forget start-up (plugin loading, regex compilation, the gazetteer) so the
        # profile shows the measured requests only. Runs on the main thread holding the GIL.
        main.clear()
        with lock:
            for profile in profiles:
                profile.clear()

    signal.signal(signal.SIGUSR1, restart)
    main.enable()
    try:
        from gateway.cli import main as cli

        cli(args=argv, prog_name="aduana", standalone_mode=False)
    finally:
        main.disable()
        stats = pstats.Stats(main)
        with lock:
            for profile in profiles:
                profile.create_stats()
                stats.add(profile)
        stats.dump_stats(str(out))


async def load(stack: Any, system: str, size: str, seconds: float, concurrency: int, from_start: bool) -> str:
    import procstat
    from closed_loop import run_load, warm_up
    from corpus import generate
    from run import targets

    corpus = generate()
    prefix, contract = ("/pass", "bench-pass") if system == "b" else ("/full", "bench-full")
    pool = targets(corpus, stack.vendor_url + prefix)[size]
    headers = {"Authorization": f"Bearer {stack.keys[contract]}"}
    await warm_up(pool, headers, requests=len(pool), concurrency=concurrency)
    if stack.gateway is not None and not from_start:
        os.kill(stack.gateway.pid, signal.SIGUSR1)  # profile from here on
        await asyncio.sleep(0.2)
    before = procstat.tree(stack.gateway.pid) if stack.gateway is not None else []
    result = await run_load(pool, headers, concurrency=concurrency, duration=seconds)
    cpu = procstat.cpu_by_role(before, procstat.tree(stack.gateway.pid)) if stack.gateway is not None else {}
    per_request = cpu.get("gateway", 0.0) / result.ok * 1000 if result.ok else float("nan")
    return (f"({system}) {size}: {result.ok} requests in {result.seconds:.1f}s ({result.rps:.1f}/s), "
            f"p50 {result.percentile(50):.2f} ms, p99 {result.percentile(99):.2f} ms, errors {result.errors}; "
            f"gateway CPU {cpu.get('gateway', 0.0):.2f} s ({per_request:.2f} ms per request, profiler on)")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-profiled":
        serve_profiled(Path(sys.argv[2]), sys.argv[3:])
        return
    from corpus import generate
    from stack import Stack

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--system", choices=["b", "c"], default="b")
    parser.add_argument("--size", default="2KB")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime).")
    parser.add_argument("--filter", default="", help="Only functions whose file:line(name) matches this regex.")
    parser.add_argument("--save", type=Path, help="Keep the raw profile here (pstats format).")
    parser.add_argument("--from-start", action="store_true",
                        help="Keep start-up and warm-up in the profile (by default it starts after the warm-up).")
    parser.add_argument("--state-dir", type=Path, help="Store, keys and logs here (e.g. on tmpfs).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aduana-prof-") as tmp:
        state = args.state_dir or Path(tmp)
        state.mkdir(parents=True, exist_ok=True)
        corpus_path = state / "corpus.json"
        import json

        corpus_path.write_text(json.dumps(generate(), ensure_ascii=False), encoding="utf-8")
        out = state / "gateway.prof"
        with Stack(state, corpus_path) as stack:
            stack.start_upstream()
            stack.start_gateway(args.workers, wrap=[sys.executable, str(Path(__file__).resolve()),
                                                     "--serve-profiled", str(out)])
            summary = asyncio.run(load(stack, args.system, args.size, args.seconds, args.concurrency,
                                       args.from_start))
            stack.stop_gateway()
        text = io.StringIO()
        stats = pstats.Stats(str(out), stream=text).sort_stats(args.sort)
        stats.print_stats(*([args.filter] if args.filter else []), args.top)
        if args.save:
            stats.dump_stats(str(args.save))
        print(text.getvalue())
        print(summary + " [profiler on: slower than real]")


if __name__ == "__main__":
    main()
