"""Poll a health URL at a fixed interval until told to stop; print every latency (ms) as JSON.

``python bench/perf/healthprobe.py URL --interval 0.01`` runs in its own process, so that its timing is
not disturbed by the load generator's event loop. It stops on SIGTERM (or SIGINT) and writes
``{"latencies_ms": [...], "errors": N}`` to stdout. One keep-alive connection, as a load balancer's
health checker would hold.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import sys
import time
from types import FrameType
from urllib.parse import urlsplit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("url")
    parser.add_argument("--interval", type=float, default=0.01, help="Seconds between the starts of two probes.")
    args = parser.parse_args()
    parts = urlsplit(args.url)
    stop = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    latencies: list[float] = []
    errors = 0
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    print("ready", file=sys.stderr, flush=True)
    while not stop:
        t0 = time.perf_counter()
        try:
            conn.request("GET", parts.path or "/")
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
        time.sleep(max(0.0, args.interval - (time.perf_counter() - t0)))
    json.dump({"latencies_ms": latencies, "errors": errors}, sys.stdout)


if __name__ == "__main__":
    main()
