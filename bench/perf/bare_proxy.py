"""A reference for (b): the least a reverse proxy on this stack can do, in its own process.

``python bench/perf/bare_proxy.py --port P --upstream URL --token T`` forwards every request to
``URL`` + its path with one long-lived ``aiohttp.ClientSession`` (the same server and client library as
Aduana, one connection pool, no access log) and returns the upstream's status, body and Content-Type.
It authenticates nobody, inspects nothing and writes nothing: what it adds over calling the upstream
directly is the floor under any aiohttp proxy on this machine, so (b) minus this is what Aduana's own
work costs (authentication, routing, the two audit records, the log line, metrics).
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

SESSION = web.AppKey("session", aiohttp.ClientSession)


def make_app(upstream: str, token: str) -> web.Application:
    async def session(app: web.Application) -> AsyncIterator[None]:
        app[SESSION] = aiohttp.ClientSession(auto_decompress=False,
                                             headers={"Authorization": f"Bearer {token}"})
        yield
        await app[SESSION].close()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        async with request.app[SESSION].request(request.method, upstream + request.path_qs, data=body or None) as r:
            payload = await r.read()
            headers = {"Content-Type": r.headers["Content-Type"]} if "Content-Type" in r.headers else {}
            return web.Response(status=r.status, body=payload, headers=headers)

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="Base URL requests are forwarded to (no trailing /).")
    parser.add_argument("--token", required=True, help="Bearer token sent to the upstream.")
    args = parser.parse_args()
    web.run_app(make_app(args.upstream.rstrip("/"), args.token), host="127.0.0.1", port=args.port,
                access_log=None, print=None)


if __name__ == "__main__":
    main()
