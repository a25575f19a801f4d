"""What ``make bench`` runs: the performance benchmark, then the accuracy benchmark, with one summary.

Both run in the project's virtualenv and need nothing else: the load generator is an asyncio client on
aiohttp (a dependency already), CPU and memory are read from ``/proc``, profiles use the standard
library's cProfile. Each benchmark runs as its own process and prints its own Markdown report; this
script frames them, notes how busy the machine was (figures from a loaded machine are not comparable
with figures from an idle one), and exits non-zero if either failed.

    .venv/bin/python bench/run_all.py                          # both, defaults (a few minutes)
    .venv/bin/python bench/run_all.py --perf-args "--workers 1,2 --duration 10" --skip-accuracy
    .venv/bin/python bench/run_all.py --out bench-results      # also keep perf.json / perf.md / accuracy.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _run(title: str, command: list[str], out: Path | None) -> int:
    """Run one benchmark, streaming its report; keep a copy in ``out`` if given."""
    print(f"\n{'=' * 100}\n{title}\n$ {shlex.join(command)}\n(load average before: {_loadavg()}, "
          f"{os.cpu_count()} cores)\n{'=' * 100}\n", flush=True)
    started = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    print(proc.stdout, flush=True)
    if out is not None:
        out.write_text(proc.stdout, encoding="utf-8")
    status = "ok" if proc.returncode == 0 else f"FAILED (exit status {proc.returncode})"
    print(f"--- {title}: {status} in {time.monotonic() - started:.0f} s (load average after: {_loadavg()})",
          flush=True)
    return proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--perf-args", default="", help="Extra arguments for bench/perf/run.py (one string).")
    parser.add_argument("--accuracy-args", default="", help="Extra arguments for bench/accuracy/run.py.")
    parser.add_argument("--skip-perf", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--out", type=Path, help="Folder for perf.json, perf.md and accuracy.md.")
    args = parser.parse_args()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    load = float(_loadavg().split()[0]) if _loadavg() != "unknown" else 0.0
    if load > (os.cpu_count() or 1) * 0.5:
        print(f"note: the machine is busy (1-minute load {load:.1f} on {os.cpu_count()} cores): throughput and "
              "latency will be lower and noisier than on an idle machine; CPU s/MB ratios hold up better.",
              file=sys.stderr)
    failures = []
    if not args.skip_perf:
        perf = [sys.executable, str(HERE / "perf" / "run.py"), *shlex.split(args.perf_args)]
        if args.out:
            perf += ["--json", str(args.out / "perf.json")]
        if _run("Performance: (a) upstream, (b) pass-through, (c) full inspection, (d) plain Presidio",
                perf, args.out / "perf.md" if args.out else None):
            failures.append("performance")
    if not args.skip_accuracy:
        accuracy = [sys.executable, str(HERE / "accuracy" / "run.py"), *shlex.split(args.accuracy_args)]
        if _run("Accuracy: leak rate and over-redaction, our packs vs Presidio's defaults", accuracy,
                args.out / "accuracy.md" if args.out else None):
            failures.append("accuracy")
    print(f"\nmake bench: {'failed: ' + ', '.join(failures) if failures else 'both benchmarks ran'}; "
          "see docs/performance.md and docs/accuracy.md for the recorded figures and targets.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
