"""Streaming pass-through over real HTTP on loopback: vendor client → gateway (SQLite) → upstream.

The upstream here is a small aiohttp app that hashes what it receives and serves large blobs, so the
tests can tell a complete transfer from a cut-off one. The gateway's inspection buffer limit
(``max_body_bytes``) is 256 KiB: a 50 MB body can only get through if it is streamed, never buffered.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.proxy.pipeline import FORWARDING_ACTION, Trace
from gateway.server.app import STATE
from harness import GatewayHarness, bearer, gateway_config

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-stream")]

MB = 1024 * 1024
INSPECT_LIMIT = 256 * 1024
PASS_LIMIT = 64 * MB
BIG = 50 * MB
OVER = 70 * MB
PASS_PACK = """\
name: stream-pass
version: "1.0.0"
description: Opaque files pass uninspected; text is inspected.
languages: [en]
content_types:
  inspect: [text/plain]
  pass: [application/octet-stream, application/json, image/png]
"""
UPLOADS = web.AppKey("uploads", list)


def pattern(size: int) -> AsyncIterator[bytes]:
    """``size`` deterministic bytes in 64 KiB chunks, never held whole."""

    async def gen() -> AsyncIterator[bytes]:
        block = bytes(range(256)) * 256
        left = size
        while left > 0:
            chunk = block[: min(left, len(block))]
            left -= len(chunk)
            yield chunk

    return gen()


def pattern_digest(size: int) -> str:
    block = bytes(range(256)) * 256
    h = hashlib.sha256()
    left = size
    while left > 0:
        h.update(block[: min(left, len(block))])
        left -= len(block)
    return h.hexdigest()


async def sink(request: web.Request) -> web.Response:
    """Hash the upload as it arrives; record only complete ones."""
    h, size = hashlib.sha256(), 0
    async for chunk in request.content.iter_chunked(65536):
        h.update(chunk)
        size += len(chunk)
    request.app[UPLOADS].append({"size": size, "sha256": h.hexdigest()})
    return web.json_response({"size": size, "sha256": h.hexdigest()})


async def blob(request: web.Request) -> web.StreamResponse:
    size = int(request.query["size"])
    response = web.StreamResponse(headers={"Content-Type": request.query.get("type", "application/octet-stream")})
    if request.query.get("length") == "1":
        response.content_length = size
    await response.prepare(request)
    async for chunk in pattern(size):
        await response.write(chunk)
    await response.write_eof()
    return response


async def broken(request: web.Request) -> web.StreamResponse:
    """Declares 10 MB, sends 1 MB, then drops the connection."""
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = 10 * MB
    await response.prepare(request)
    async for chunk in pattern(MB):
        await response.write(chunk)
    assert request.transport is not None
    request.transport.close()
    return response


async def stall(request: web.Request) -> web.StreamResponse:
    """Sends 128 KiB of a 10 MB body, then stalls (no data, connection open) until the reader goes away."""
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = 10 * MB
    await response.prepare(request)
    async for chunk in pattern(128 * 1024):
        await response.write(chunk)
    while request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(0.05)
    return response


class Env:
    def __init__(self, gw: GatewayHarness, upstream: web.Application) -> None:
        self.gw, self.upstream = gw, upstream
        self.key = gw.issue_key("acme")
        self.headers = bearer(self.key)

    def records(self) -> list[dict[str, Any]]:
        assert self.gw.runtime is not None
        with self.gw.runtime.db.transaction() as tx:
            return [json.loads(b) for (b,) in tx.fetchall("SELECT body FROM audit_records ORDER BY seq")]

    def records_for(self, request_id: str) -> list[dict[str, Any]]:
        """The request's outcome records (its ``proxy.forwarding`` record, written before, left out)."""
        return [r for r in self.records() if r.get("request_id") == request_id and r["action"] != FORWARDING_ACTION]

    async def wait_records(self, request_id: str, count: int) -> list[dict[str, Any]]:
        """The request's records once there are ``count`` (the gateway writes a cut's record after the
        client has already seen the cut, when it was the client that left)."""
        for _ in range(2400):  # up to 60 s: on a loaded machine the cut can take a while to surface
            found = self.records_for(request_id)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.025)
        return self.records_for(request_id)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    app = web.Application(client_max_size=1024 * MB)
    app[UPLOADS] = []
    app.router.add_post("/upload", sink)
    app.router.add_get("/blob", blob)
    app.router.add_get("/broken", broken)
    app.router.add_get("/stall", stall)
    upstream = TestServer(app, host="127.0.0.1", port=0)
    await upstream.start_server()
    directory = tmp_path_factory.mktemp("stream")
    (directory / "packs").mkdir()
    (directory / "packs" / "stream-pass.yaml").write_text(PASS_PACK, encoding="utf-8")
    data = gateway_config(str(upstream.make_url("")).rstrip("/"))
    data["policy_paths"] = ["packs"]
    data["inspection"] = {"workers": 1, "timeout_seconds": 30, "max_body_bytes": INSPECT_LIMIT,
                          "stream_threshold_bytes": 64 * 1024, "max_passthrough_bytes": PASS_LIMIT}
    route = data["contracts"]["acme"]["routes"][0]
    paths = ["/upload", "/blob", "/broken", "/stall"]
    data["contracts"]["acme"]["routes"] = [{**route, "paths": paths, "policy_packs": ["stream-pass"]}]
    gw = await GatewayHarness(directory, data).start()
    try:
        yield Env(gw, app)
    finally:
        await gw.close()
        await upstream.close()


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRss:
    """Samples this process's RSS (gateway, upstream and client all live here) while a transfer runs."""

    def __init__(self) -> None:
        self.base = rss_bytes()
        self.peak = self.base
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes())
            await asyncio.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.base


async def test_large_passed_upload_streams_with_bounded_memory(env: Env) -> None:
    env.upstream[UPLOADS].clear()
    async with aiohttp.ClientSession() as session:
        with PeakRss() as rss:
            async with session.post(env.gw.url("/helpdesk/upload"), data=pattern(BIG), headers={
                **env.headers, "Content-Type": "application/octet-stream"}) as resp:
                assert resp.status == 200, await resp.text()
                request_id = resp.headers["X-Request-Id"]
                got = await resp.json()
    assert got == {"size": BIG, "sha256": pattern_digest(BIG)}
    assert rss.growth < 24 * MB, f"RSS grew {rss.growth / MB:.1f} MB for a {BIG // MB} MB body"
    (record,) = env.records_for(request_id)
    assert record["decision"] == "forwarded"
    assert record["bytes_in"] == BIG
    assert record["details"]["streamed"] == ["request"]


async def test_large_passed_download_streams_with_bounded_memory(env: Env) -> None:
    h, size = hashlib.sha256(), 0
    async with aiohttp.ClientSession() as session:
        with PeakRss() as rss:
            async with session.get(env.gw.url(f"/helpdesk/blob?size={BIG}&length=1"), headers=env.headers) as resp:
                assert resp.status == 200
                assert resp.content_length == BIG
                request_id = resp.headers["X-Request-Id"]
                async for chunk in resp.content.iter_chunked(65536):
                    h.update(chunk)
                    size += len(chunk)
    assert (size, h.hexdigest()) == (BIG, pattern_digest(BIG))
    assert rss.growth < 24 * MB, f"RSS grew {rss.growth / MB:.1f} MB for a {BIG // MB} MB body"
    (record,) = env.records_for(request_id)  # written before the first byte; no second record
    assert record["decision"] == "forwarded"
    assert record["bytes_out"] == BIG
    assert record["details"]["streamed"] == ["response"]


async def test_small_passed_body_is_buffered_not_streamed(env: Env) -> None:
    async with aiohttp.ClientSession() as session, session.get(
        env.gw.url("/helpdesk/blob?size=1000&length=1"), headers=env.headers
    ) as resp:
        assert resp.status == 200
        assert len(await resp.read()) == 1000
        (record,) = env.records_for(resp.headers["X-Request-Id"])
    assert "streamed" not in record["details"]


async def test_inspected_text_over_the_limit_is_413_and_audited(env: Env) -> None:
    env.upstream[UPLOADS].clear()
    body = b"Call me on 555-0100. " * (INSPECT_LIMIT // 20 + 10)
    async with aiohttp.ClientSession() as session, session.post(
        env.gw.url("/helpdesk/upload"), data=body, headers={**env.headers, "Content-Type": "text/plain"}
    ) as resp:
        assert resp.status == 413
        error = (await resp.json())["error"]
    assert error["reason"] == "body_too_large"
    assert env.upstream[UPLOADS] == []
    (record,) = env.records_for(error["request_id"])
    assert (record["decision"], record["reason"]) == ("blocked", "body_too_large")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_passed_upload_over_the_absolute_limit_is_cut_off_and_audited(env: Env, declared: bool) -> None:
    env.upstream[UPLOADS].clear()
    headers = {**env.headers, "Content-Type": "application/octet-stream"}
    if declared:
        headers["Content-Length"] = str(OVER)
    async with aiohttp.ClientSession() as session, session.post(
        env.gw.url("/helpdesk/upload"), data=pattern(OVER), headers=headers
    ) as resp:
        assert resp.status == 413
        error = (await resp.json())["error"]
    assert error["reason"] == "body_too_large"
    assert env.upstream[UPLOADS] == []  # the upstream never saw a complete message
    (record,) = env.records_for(error["request_id"])
    assert (record["decision"], record["reason"]) == ("blocked", "body_too_large")
    assert record["bytes_in"] <= PASS_LIMIT + 65536


async def test_streamed_upload_that_is_not_its_declared_type_is_refused(env: Env) -> None:
    env.upstream[UPLOADS].clear()
    headers = {**env.headers, "Content-Type": "image/png"}  # chunked: streamed; the bytes are no PNG
    async with aiohttp.ClientSession() as session, session.post(
        env.gw.url("/helpdesk/upload"), data=pattern(BIG), headers=headers
    ) as resp:
        assert resp.status == 415
        error = (await resp.json())["error"]
    assert error["reason"] == "content_type_mismatch"
    assert env.upstream[UPLOADS] == []
    (record,) = env.records_for(error["request_id"])
    assert (record["decision"], record["reason"]) == ("blocked", "content_type_mismatch")


async def test_passed_download_over_the_absolute_limit_is_cut_off_and_audited(env: Env) -> None:
    size = 0
    async with aiohttp.ClientSession() as session, session.get(
        env.gw.url(f"/helpdesk/blob?size={OVER}"), headers=env.headers
    ) as resp:
        assert resp.status == 200  # the headers left before the cut
        request_id = resp.headers["X-Request-Id"]
        async def drain() -> None:
            nonlocal size
            async for chunk in resp.content.iter_chunked(65536):
                size += len(chunk)

        with pytest.raises(aiohttp.ClientPayloadError):
            await drain()
    assert size <= PASS_LIMIT
    first, second = env.records_for(request_id)
    assert first["decision"] == "forwarded"  # written before the first byte
    assert (second["decision"], second["reason"]) == ("failed", "upstream_body_too_large")
    assert second["bytes_out"] == size
    assert second["seq"] > first["seq"]


async def test_passed_download_declared_over_the_limit_is_refused_before_any_byte(env: Env) -> None:
    async with aiohttp.ClientSession() as session, session.get(
        env.gw.url(f"/helpdesk/blob?size={OVER}&length=1"), headers=env.headers
    ) as resp:
        assert resp.status == 502
        error = (await resp.json())["error"]
    assert error["reason"] == "upstream_body_too_large"
    (record,) = env.records_for(error["request_id"])
    assert record["decision"] == "failed"


async def test_audit_failure_sends_no_byte_of_a_streamed_response(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    assert env.gw.runtime is not None

    def broken(*args: object) -> None:
        raise RuntimeError("disk gone")

    assert env.gw.vendor is not None
    monkeypatch.setattr(env.gw.vendor.app[STATE].pipeline.audit, "append", broken)
    async with aiohttp.ClientSession() as session, session.get(
        env.gw.url(f"/helpdesk/blob?size={BIG}"), headers=env.headers
    ) as resp:
        assert resp.status == 503
        error = (await resp.json())["error"]
    assert error["reason"] == "audit_write_failed"


async def test_upstream_failing_mid_stream_cuts_the_client_off_and_is_audited(env: Env) -> None:
    size = 0
    async with aiohttp.ClientSession() as session, session.get(
        env.gw.url("/helpdesk/broken"), headers=env.headers
    ) as resp:
        assert resp.status == 200
        request_id = resp.headers["X-Request-Id"]

        async def drain() -> None:
            nonlocal size
            async for chunk in resp.content.iter_chunked(65536):
                size += len(chunk)

        with pytest.raises(aiohttp.ClientPayloadError):
            await drain()
    assert size < 10 * MB
    first, second = await env.wait_records(request_id, 2)
    assert first["decision"] == "forwarded"
    assert (second["decision"], second["reason"]) == ("failed", "upstream_stream_failed")


async def test_client_leaving_mid_stream_is_audited(env: Env) -> None:
    async with aiohttp.ClientSession() as session:
        resp = await session.get(env.gw.url(f"/helpdesk/blob?size={BIG}"), headers=env.headers)
        assert resp.status == 200
        request_id = resp.headers["X-Request-Id"]
        await resp.content.readexactly(65536)
        resp.close()  # drop the connection with most of the body unread
    records = await env.wait_records(request_id, 2)
    assert len(records) == 2, records  # the outcome, then the cut
    first, second = records
    assert first["decision"] == "forwarded"
    assert (second["decision"], second["reason"]) == ("failed", "client_disconnected")
    assert second["bytes_out"] < BIG


async def test_client_leaving_while_upstream_stalls_is_audited_as_a_client_cut(env: Env) -> None:
    """The relay waits on an upstream that sends nothing; the client's leaving must still end it.

    Without the watcher the handler would sit in the upstream read until its timeout (30 s) and then
    record ``upstream_stream_failed``: the reason tells the two apart, not the time it took.
    """
    async with aiohttp.ClientSession() as session:
        resp = await session.get(env.gw.url("/helpdesk/stall"), headers=env.headers)
        assert resp.status == 200
        request_id = resp.headers["X-Request-Id"]
        await resp.content.readexactly(65536)
        resp.close()
    first, second = await env.wait_records(request_id, 2)
    assert first["decision"] == "forwarded"
    assert (second["decision"], second["reason"]) == ("failed", "client_disconnected")


async def test_record_of_what_was_sent_survives_the_handler_being_cancelled(env: Env) -> None:
    """A cut's record queued behind a busy store pool is still written when its handler is cancelled.

    aiohttp cancels the handler when the client leaves (``handler_cancellation``); an executor job that
    has not started when its awaiting task is cancelled is dropped unless the wait is shielded.
    """
    pipeline = env.gw.vendor.app[STATE].pipeline
    assert pipeline is not None
    request_id = "cancelled-while-queued"
    event = pipeline._event(Trace(request_id=request_id, method="GET", decision="failed",
                                  reason="client_disconnected"))
    gate = threading.Event()
    loop = asyncio.get_running_loop()
    blockers = [loop.run_in_executor(pipeline._store, gate.wait) for _ in range(pipeline._store._max_workers)]  # type: ignore[attr-defined]
    try:
        task = asyncio.create_task(pipeline._record_quietly(event))
        await asyncio.sleep(0.05)  # the write is now queued behind the blocked threads
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        gate.set()
        await asyncio.gather(*blockers)
    assert len(await env.wait_records(request_id, 1)) == 1
