"""Where a pass-through request's time goes inside the gateway: wall-clock stages, median per request.

    .venv/bin/python bench/perf/pass_timing.py [--size 2KB] [--seconds 6] [--sqlite-synchronous full|normal]

Starts the benchmark's upstream and a real ``aduana serve`` (as ``run.py`` does), with the gateway's
command wrapped so that :class:`gateway.proxy.pipeline.Pipeline` reports, for each request on route (b):
its whole handling, the upstream call, and each hand-off to the store pool split in three — waiting for a
store thread to start it, the work on that thread, and waiting for the event loop to take the result
back. One client, so the stages are not queued behind each other. Prints a table (µs, median and mean).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from closed_loop import run_load, warm_up  # noqa: E402
from corpus import SIZES, generate  # noqa: E402
from run import targets  # noqa: E402
from stack import Stack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--size", default="2KB", choices=SIZES)
    parser.add_argument("--seconds", type=float, default=6.0, help="Length of the measured pass.")
    parser.add_argument("--sqlite-synchronous", choices=("full", "normal"), default="full")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aduana-timing-") as tmp:
        state = Path(tmp)
        corpus = generate()
        corpus_path = state / "corpus.json"
        corpus_path.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")
        out = state / "timing.json"
        stack = Stack(state, corpus_path, synchronous=args.sqlite_synchronous,
                      env={"ADUANA_TIMING_OUT": str(out)})
        with stack:
            stack.start_upstream()
            stack.start_gateway(1, wrap=[sys.executable, str(HERE / "timing_wrap.py")])
            pool = targets(corpus, stack.vendor_url + "/pass")[args.size]
            auth = {"Authorization": f"Bearer {stack.keys['bench-pass']}"}
            asyncio.run(warm_up(pool, auth, requests=200, concurrency=1))
            out.unlink(missing_ok=True)  # only the measured pass counts
            result = asyncio.run(run_load(pool, auth, concurrency=1, duration=args.seconds))
            stack.stop_gateway()  # the wrapper writes its figures at exit
        stages = json.loads(out.read_text(encoding="utf-8"))
    print(f"(b) {args.size}, 1 client, synchronous={args.sqlite_synchronous}: {result.ok} requests, "
          f"p50 {result.percentile(50):.2f} ms, p99 {result.percentile(99):.2f} ms (client side)\n")
    print("| stage | median µs | mean µs |\n| --- | ---: | ---: |")
    for name, row in stages.items():
        print(f"| {name} | {row['p50_us']:.0f} | {row['mean_us']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
