"""The vendor listener's answer to requests aiohttp refuses before any handler or middleware runs.

aiohttp's HTTP parser answers what it cannot parse (CR or LF alone in a header, a NUL, a header line over
8190 bytes, more than 128 headers, Content-Length with Transfer-Encoding, a bad chunk size, bytes that are
not HTTP) by itself: plain text that quotes the offending bytes back, no request id, and a log line of
aiohttp's server logger quoting them again. Its router answers an unknown ``Expect`` the same way (417).
:class:`GatewayRunner` replaces those answers with the application's own, installed by :func:`install`:
for the vendor application, the pipeline's JSON error under a request id that is also the id of the one
audit record written for it (``Pipeline.refuse_malformed``), or 503 ``audit_write_failed``.

Rules this module keeps:
1. A refused request is answered only by the application's ``answer(status, request_id)``, which never
   sees the request; aiohttp's status is kept, and the connection is closed after the answer.
2. Nothing here reads, logs or returns the parser's exception or message: they quote the request's bytes.
3. An application that installs an answer does not start under any other runner (start-up fails), so a
   deployment cannot lose these records and answers quietly.

This is the one module that relies on aiohttp internals. aiohttp is pinned in ``pyproject.toml``; bump it
only when ``tests/server/test_protocol.py`` and ``tests/adversarial/test_bad_framing.py`` pass. It uses:

- ``RequestHandler._make_error_handler(err_info)``: ``RequestHandler.start()`` calls it for every message
  the parser refused (an ``_ErrInfo`` with ``status``) and awaits the handler it returns, then prepares
  and sends the response (``finish_response``). It is overridden rather than ``handle_error``, which it
  calls by default: ``handle_error`` is synchronous (it cannot await the audit write before the answer
  leaves), also answers handler crashes (500, 504, which are not refusals), and logs the exception.
- ``web.Server.__call__`` (the protocol factory sites pass to ``loop.create_server``), with the server's
  ``_loop`` and ``_kwargs`` (the handler arguments it was built with).
- ``web.AppRunner._make_server`` (``TestServer._make_runner`` in the test harness builds the runner).
- ``web_urldispatcher._default_expect_handler``, kept for ``Expect: 100-continue``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler, _ErrInfo
from aiohttp.web_request import BaseRequest
from aiohttp.web_urldispatcher import _default_expect_handler

from gateway.errors import AduanaError
from gateway.oplog import get_logger
from gateway.proxy.pipeline import error_response

#: ``answer(status, request_id)``: record and answer a refused request; must not raise (rule 1).
Answer = Callable[[int, str], Awaitable[web.StreamResponse]]


class Refusals:
    """An application's answer to refused requests, and whether a :class:`GatewayRunner` serves it."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.wired = False


REFUSALS = web.AppKey("aduana_refusals", Refusals)


def install(app: web.Application, answer: Answer) -> None:
    """Answer ``app``'s refused requests with ``answer``; ``app`` then starts only under :class:`GatewayRunner`.

    Call it before adding the application's own cleanup contexts: under a wrong runner start-up then
    fails before they open anything (rule 3).
    """
    refusals = Refusals(answer)
    app[REFUSALS] = refusals

    async def require_gateway_runner(app: web.Application) -> AsyncIterator[None]:
        if not refusals.wired:
            raise RuntimeError("serve this application with gateway.server.protocol.GatewayRunner: under "
                               "another runner aiohttp answers malformed requests itself, unaudited")
        yield

    app.cleanup_ctx.append(require_gateway_runner)


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    """A route's ``expect_handler``: ``100-continue`` as aiohttp does it; any other expectation is refused."""
    try:
        await _default_expect_handler(request)
    except web.HTTPExpectationFailed:  # aiohttp's own answer quotes the header back
        return await _refuse(request.app[REFUSALS].answer, 417)
    return None


async def _refuse(answer: Answer, status: int) -> web.StreamResponse:
    request_id = uuid.uuid4().hex
    try:
        response = await answer(status, request_id)
    except Exception as exc:  # a bug in ``answer``: still our JSON shape, never aiohttp's text
        get_logger().error("refusal_failed", request_id=request_id, status=status, error=type(exc).__name__)
        response = error_response(AduanaError(), request_id)
    response.force_close()
    return response


class GatewayRequestHandler(RequestHandler):
    """aiohttp's connection handler, with the parser's refusals answered by the application."""

    __slots__ = ("_answer",)

    def __init__(self, manager: web.Server, answer: Answer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._answer = answer

    def _make_error_handler(self, err_info: _ErrInfo) -> Callable[[BaseRequest], Awaitable[web.StreamResponse]]:
        status = err_info.status  # only the status: err_info.exc and .message quote the request (rule 2)

        async def refuse(request: BaseRequest) -> web.StreamResponse:
            return await _refuse(self._answer, status)

        return refuse


class GatewayServer(web.Server):
    """A ``web.Server`` (the protocol factory) whose connections are :class:`GatewayRequestHandler` s."""

    def __init__(self, server: web.Server, answer: Answer) -> None:
        super().__init__(server.request_handler, request_factory=server.request_factory,
                         handler_cancellation=server.handler_cancellation, loop=server._loop, **server._kwargs)
        self._answer = answer

    def __call__(self) -> RequestHandler:
        return GatewayRequestHandler(self, self._answer, loop=self._loop, **self._kwargs)


class GatewayRunner(web.AppRunner):
    """An ``AppRunner`` for an application with :func:`install`: refused requests get its answer.

    ``aduana serve`` (one process or ``--workers N``, plain or TLS sites) and the test harness both serve
    the vendor application with it.
    """

    async def _make_server(self) -> web.Server:
        refusals = self.app.get(REFUSALS)
        if refusals is None:
            raise TypeError("GatewayRunner serves applications that call gateway.server.protocol.install")
        refusals.wired = True  # before start-up, whose first step checks it
        return GatewayServer(await super()._make_server(), refusals.answer)
