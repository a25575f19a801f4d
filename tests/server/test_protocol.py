"""``gateway/server/protocol.py`` on a small application: refused requests get the application's answer.

No gateway here (no models, no store): an application whose ``answer`` records its calls, served the two
ways the gateway is served, ``GatewayRunner`` on a TCP site (``aduana serve``) and the harness's
``GatewayTestServer``. If aiohttp changes the internals the module relies on, these fail first.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from gateway.server import protocol
from gateway.server.protocol import GatewayRunner
from harness import GatewayTestServer

pytestmark = [pytest.mark.e2e]

CANARY = b"Margaret Ellison"
CRLF_INJECTION = b"GET /x HTTP/1.1\r\nHost: x\r\nX-Note: " + CANARY + b"\nX-Injected: 1\r\n\r\n"


@dataclass
class App:
    app: web.Application
    calls: list[tuple[int, str]] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)
    fail: bool = False


def make_app() -> App:
    app = web.Application()
    made = App(app)

    async def answer(status: int, request_id: str) -> web.StreamResponse:
        made.calls.append((status, request_id))
        if made.fail:
            raise RuntimeError("the answer broke")
        return web.json_response({"error": {"reason": "http_malformed", "request_id": request_id}},
                                 status=status, headers={"X-Request-Id": request_id})

    async def handler(request: web.Request) -> web.StreamResponse:
        made.handled.append(request.method)
        await request.read()
        return web.json_response({"ok": True})

    protocol.install(app, answer)
    app.router.add_route("*", "/{tail:.*}", handler, expect_handler=protocol.expect_handler)
    return made


Serve = Callable[[web.Application], Awaitable[tuple[int, Callable[[], Awaitable[None]]]]]


async def _on_site(app: web.Application) -> tuple[int, Callable[[], Awaitable[None]]]:
    runner = GatewayRunner(app, access_log=None, handle_signals=False)  # as gateway/cli/serve.py does
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return int(runner.addresses[0][1]), runner.cleanup


async def _on_test_server(app: web.Application) -> tuple[int, Callable[[], Awaitable[None]]]:
    server = GatewayTestServer(app, host="127.0.0.1", port=0)  # as tests/harness.py does
    await server.start_server()
    assert server.port is not None
    return server.port, server.close


@pytest.fixture(params=[_on_site, _on_test_server], ids=["GatewayRunner", "GatewayTestServer"])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[App, int]]:
    made = make_app()
    port, close = await request.param(made.app)
    try:
        yield made, port
    finally:
        await close()


async def exchange(port: int, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send ``data``; read until the server closes the connection (a refusal must close it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


REFUSED = {
    "CR/LF in a header": CRLF_INJECTION,
    "NUL in a header": b"GET /x HTTP/1.1\r\nHost: x\r\nX-Note: " + CANARY + b"\x00\r\n\r\n",
    "a header over 8190 bytes": b"GET /x HTTP/1.1\r\nHost: x\r\nX-Note: " + CANARY * 600 + b"\r\n\r\n",
    "Content-Length with Transfer-Encoding": b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "a bad chunk size": b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + CANARY + b"\r\n",
    "bytes that are not HTTP": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64),
}


@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
async def test_a_refused_request_gets_the_applications_answer_and_is_closed(
        served: tuple[App, int], data: bytes, caplog: pytest.LogCaptureFixture) -> None:
    made, port = served
    caplog.set_level(logging.DEBUG)
    status, headers, body = await exchange(port, data)
    (called,) = made.calls
    assert status == 400 and called[0] == 400
    assert headers["x-request-id"] == called[1] == json.loads(body)["error"]["request_id"]
    assert headers["content-type"].startswith("application/json")
    assert made.handled == []
    # aiohttp's own answer and its server log quote the offending bytes; ours do neither.
    assert CANARY not in body and CANARY.decode() not in caplog.text


async def test_a_failing_answer_still_gets_json_and_a_request_id(served: tuple[App, int]) -> None:
    made, port = served
    made.fail = True
    status, headers, body = await exchange(port, CRLF_INJECTION)
    error = json.loads(body)["error"]
    assert (status, error["reason"]) == (500, "internal_error")
    assert headers["x-request-id"] == error["request_id"] == made.calls[0][1]


async def test_an_unknown_expectation_is_refused_by_the_application(served: tuple[App, int]) -> None:
    made, port = served
    status, headers, body = await exchange(port, b"POST /x HTTP/1.1\r\nHost: x\r\nExpect: " + CANARY +
                                           b"\r\nContent-Length: 2\r\n\r\nab")
    assert status == 417 and made.calls == [(417, headers["x-request-id"])]
    assert CANARY not in body and made.handled == []


async def test_100_continue_still_works(served: tuple[App, int]) -> None:
    made, port = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10) == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"ab")
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert raw.startswith(b"HTTP/1.1 200") and made.handled == ["POST"] and made.calls == []


async def test_a_well_formed_request_reaches_the_handler(served: tuple[App, int]) -> None:
    made, port = served
    status, _, body = await exchange(port, b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, json.loads(body)) == (200, {"ok": True}) and made.handled == ["GET"] and made.calls == []


async def test_the_application_does_not_start_under_another_runner() -> None:
    """Under aiohttp's own runner, refusals would be aiohttp's plain text, unaudited: start-up fails."""
    runner = web.AppRunner(make_app().app)
    with pytest.raises(RuntimeError, match="GatewayRunner"):
        await runner.setup()


async def test_the_runner_needs_an_installed_answer() -> None:
    runner = GatewayRunner(web.Application())
    with pytest.raises(TypeError, match="install"):
        await runner.setup()
