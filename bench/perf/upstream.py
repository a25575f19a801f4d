"""The benchmark's upstream: the example helpdesk serving the benchmark corpus, in its own process.

``python bench/perf/upstream.py --port P --corpus FILE`` serves every ticket of the corpus at
``GET /api/tickets/{id}`` (``helpdesk.make_app(tickets=...)``), with request recording and the access log
off so that neither memory nor log writing grows with the load.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))

TOKEN = "bench-helpdesk-token"


def main() -> None:
    from aiohttp import web

    from helpdesk import make_app

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--corpus", type=Path, required=True, help="JSON {size: [ticket, ...]} from corpus.py")
    args = parser.parse_args()
    corpus = json.loads(args.corpus.read_text(encoding="utf-8"))
    tickets = [t for group in corpus.values() for t in group]
    app = make_app(api_token=TOKEN, tickets=tickets, record=False)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
