"""The audit webhook sink against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from aduana_acme import plugin, webhook

RECORD = {"seq": 7, "kind": "request", "decision": "forwarded", "entities": {"ACME_ORDER_NUMBER": {"tokenize": 1}}}


class Hook:
    """A webhook that records what it receives and answers with ``status`` after ``delay`` seconds."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.status = 204
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), dict(request.headers)))
        await asyncio.sleep(self.delay)
        if self.status in (301, 307):
            return web.Response(status=self.status, headers={"Location": "http://127.0.0.1:9/elsewhere"})
        return web.Response(status=self.status)


@pytest_asyncio.fixture
async def hook() -> AsyncIterator[tuple[Hook, str]]:
    state = Hook()
    app = web.Application()
    app.router.add_post("/audit", state.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    yield state, str(server.make_url("/audit"))
    await server.close()


def _post() -> Any:
    # Aduana calls sinks on a store thread; do the same so the loopback server keeps serving.
    return asyncio.get_running_loop().run_in_executor(None, lambda: plugin.aduana_audit_record(record=RECORD))


async def test_posts_each_record_as_json(hook: tuple[Hook, str], monkeypatch: pytest.MonkeyPatch) -> None:
    state, url = hook
    monkeypatch.setenv(webhook.URL_ENV, url)
    monkeypatch.setenv(webhook.TOKEN_ENV, "s3cret")
    await _post()
    ((body, headers),) = state.received
    assert body == RECORD
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"


async def test_unset_url_does_nothing(hook: tuple[Hook, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(webhook.URL_ENV, raising=False)
    await _post()
    assert hook[0].received == []


@pytest.mark.parametrize(("status", "delay"), [(500, 0.0), (404, 0.0), (307, 0.0), (301, 0.0), (204, 2.0)])
async def test_failures_raise(hook: tuple[Hook, str], monkeypatch: pytest.MonkeyPatch, status: int,
                              delay: float) -> None:
    state, url = hook
    state.status, state.delay = status, delay
    monkeypatch.setenv(webhook.URL_ENV, url)
    monkeypatch.setenv(webhook.TIMEOUT_ENV, "0.5")
    with pytest.raises(webhook.WebhookError):
        await _post()


async def test_unreachable_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(webhook.URL_ENV, "http://127.0.0.1:9/audit")  # the discard port: nothing listens
    with pytest.raises(webhook.WebhookError):
        await _post()


@pytest.mark.parametrize(("url", "timeout"), [("file:///etc/passwd", "1"), ("ftp://x/", "1"), ("http://x/", "0")])
def test_configuration_mistakes(monkeypatch: pytest.MonkeyPatch, url: str, timeout: str) -> None:
    monkeypatch.setenv(webhook.URL_ENV, url)
    monkeypatch.setenv(webhook.TIMEOUT_ENV, timeout)
    with pytest.raises(ValueError):
        plugin.aduana_audit_record(record=RECORD)

