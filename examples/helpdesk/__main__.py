"""Run the example helpdesk: ``python -m helpdesk --host 127.0.0.1 --port 9000``.

Logs one line per request to stderr: method, path (without the query string, which may hold an email
address) and status. Bodies are never logged.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .app import DEFAULT_API_TOKEN, make_app

_log = logging.getLogger("helpdesk")


class RequestLineLogger(AbstractAccessLogger):
    """Access log without bodies or query strings: the helpdesk's logs must not become a data leak."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Write ``METHOD /path STATUS duration``."""
        self.logger.info("%s %s %d %.1fms", request.method, request.path, response.status, time * 1000)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m helpdesk",
        description="Run the example helpdesk that Aduana's demo and tests put behind the gateway.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=9000, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--api-token",
        default=os.environ.get("HELPDESK_API_TOKEN", DEFAULT_API_TOKEN),
        help="bearer token every /api/ request must carry (default: $HELPDESK_API_TOKEN or the demo token)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until interrupted (SIGINT or SIGTERM)."""
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # A long-running helpdesk has no test to read the received log, so it would only grow.
    app = make_app(api_token=args.api_token, record=False)
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        access_log=logging.getLogger("helpdesk.access"),
        access_log_class=RequestLineLogger,
        print=_log.info,
    )


if __name__ == "__main__":
    main()
