"""Streaming pass-through: large bodies the policy passes uninspected are relayed, never buffered whole.

Rules this module keeps (on top of the pipeline's):
1. Only a body whose content type the effective policy *passes* uninspected is ever streamed, and only
   when it is larger than ``inspection.stream_threshold_bytes`` or declares no length. Every other body
   is read whole up to ``inspection.max_body_bytes`` and inspected as before (over it: 413, audited).
2. The absolute limit ``inspection.max_passthrough_bytes`` holds while streaming. A declared length over
   it is refused before a byte moves. A request body that grows past it aborts the upstream request (the
   upstream sees an incomplete message, never a complete one) and the caller gets 413. A response body
   that grows past it is cut off: the connection is closed without the final chunk, so the client sees
   an incomplete body, never a shorter one that looks complete.
3. No access without a record: a streamed response is handed to the pipeline as a :class:`PendingStream`,
   which sends nothing until the pipeline has durably written the audit record and calls
   :meth:`PendingStream.release`. A transfer cut off after that is recorded by a second record with the
   same request id (:attr:`PendingStream.cut_reason`).
4. A streamed request body must start with the signature of its declared type (``guards``, rule 3),
   checked on its first chunk; a mismatch aborts the upstream request (415 ``content_type_mismatch``).
   A streamed *response* is not checked: its headers are sent before its first chunk is read.
5. Bounded memory: at most one chunk (``CHUNK`` bytes) per direction is held; aiohttp's flow control
   pauses the sending side while the receiving side is slow.
6. A client that leaves is noticed within ``CLIENT_POLL_SECONDS`` whatever the relay is waiting on: a
   watcher aborts both connections, so neither a stalled upstream read nor a stalled write can hold the
   handler (and the cut's record) until the upstream read timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from gateway.config import InspectionConfig
from gateway.errors import AduanaError, BadRequestError, PayloadTooLargeError, UpstreamError, UpstreamTimeout
from gateway.inspect.inspector import MediaType
from gateway.policy.merge import EffectivePolicy
from gateway.proxy import guards

CHUNK = 64 * 1024
CLIENT_POLL_SECONDS = 0.2


def should_stream(
    content_type: str | None, declared: int | None, policy: EffectivePolicy, limits: InspectionConfig
) -> bool:
    """True when a body of this type and declared length is streamed rather than buffered (rule 1)."""
    if policy.content_disposition(MediaType.parse(content_type).type) != "pass":
        return False
    return declared is None or declared > limits.stream_threshold_bytes


class RequestStream:
    """A vendor's request body on its way upstream, counted and cut off at the absolute limit (rule 2).

    Iterate it once, as the upstream request's body. ``overflow`` and ``broken`` tell the pipeline why an
    upstream request failed, since aiohttp reports a failing body as a generic client error.
    """

    def __init__(self, request: web.Request, limit: int) -> None:
        declared = request.content_length
        if declared is not None and declared > limit:
            raise PayloadTooLargeError("declared body over the pass-through limit")
        self._content = request.content
        self._content_type = request.headers.get("Content-Type")
        self.mismatch: AduanaError | None = None
        self.declared = declared
        self.limit = limit
        self.size = 0
        self.overflow = False
        self.broken = False

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._content.iter_chunked(CHUNK):
                if self.size == 0 and chunk:
                    try:  # the body must start like the type it declares, as a buffered one must
                        guards.check_declared_type(chunk, self._content_type)
                    except AduanaError as exc:
                        self.mismatch = exc
                        raise
                self.size += len(chunk)
                if self.size > self.limit:
                    self.overflow = True
                    raise PayloadTooLargeError("body over the pass-through limit")
                yield chunk
        except aiohttp.ClientPayloadError as exc:
            self.broken = True
            raise BadRequestError("malformed body framing", reason="malformed_body") from exc

    def failure(self, exc: BaseException) -> AduanaError | None:
        """The error to report when the upstream request failed because of this body, else None."""
        if self.mismatch is not None:
            return self.mismatch
        if self.overflow:
            return PayloadTooLargeError("body over the pass-through limit")
        if self.broken:
            return BadRequestError("malformed body framing", reason="malformed_body")
        return None


@dataclass
class Buffered:
    """An upstream response read whole (it is inspected, or small)."""

    status: int
    headers: CIMultiDict[str]
    body: bytes


class PendingStream:
    """An upstream response held at its headers until the audit record is written (rule 3)."""

    def __init__(self, upstream: aiohttp.ClientResponse, limit: int) -> None:
        self._upstream = upstream
        self.status = upstream.status
        self.upstream_headers = CIMultiDict(upstream.headers)
        self.declared = upstream.content_length
        self.limit = limit
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.sent = 0
        self.cut_reason: str | None = None
        self._client_gone = False

    def close(self) -> None:
        """Drop the upstream response without sending anything (the request failed closed)."""
        self._upstream.close()

    async def release(self, request: web.Request) -> web.StreamResponse:
        """Send the response; call only after its audit record is durable.

        On a cut this sets ``cut_reason`` and returns without ending the body: the caller records the cut
        and then must call :meth:`abort`, or aiohttp would end the body as if it were complete.
        """
        response = web.StreamResponse(status=self.status, headers=self.headers)
        if self.declared is not None:
            response.content_length = self.declared  # lets the client notice a cut-off body
        watcher = asyncio.create_task(self._watch_client(request))
        try:
            self.cut_reason = await self._relay(request, response)
        except asyncio.CancelledError:
            self.cut_reason = "client_disconnected"
            raise
        finally:
            watcher.cancel()
            self._upstream.close()
        return response

    async def _watch_client(self, request: web.Request) -> None:
        """Abort both sides once the client's connection is gone or closing (rule 6)."""
        while True:
            await asyncio.sleep(CLIENT_POLL_SECONDS)
            transport = request.transport
            if transport is None or transport.is_closing():
                self._client_gone = True
                if transport is not None:
                    transport.abort()  # wakes a write waiting for a peer that will never read
                self._upstream.close()  # wakes a read waiting for an upstream that stalled
                return

    async def _relay(self, request: web.Request, response: web.StreamResponse) -> str | None:
        """Copy the body chunk by chunk; the reason it was cut, or None when it went through whole.

        Reading (the upstream's fault) and writing (the client's) are told apart by where they fail:
        aiohttp's connection-reset error is both a ``ClientError`` and a ``ConnectionError``.
        """
        try:
            await response.prepare(request)
        except ConnectionError:
            return "client_disconnected"
        chunks = self._upstream.content.iter_chunked(CHUNK)
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except (aiohttp.ClientError, TimeoutError):
                return "client_disconnected" if self._client_gone else "upstream_stream_failed"
            if self.sent + len(chunk) > self.limit:
                return "upstream_body_too_large"
            try:
                await response.write(chunk)
            except ConnectionError:
                return "client_disconnected"
            self.sent += len(chunk)
        try:
            await response.write_eof()
        except ConnectionError:
            return "client_disconnected"
        return None

    def abort(self, request: web.Request) -> None:
        """After a cut (and its record), close the connection without the final chunk (rule 2)."""
        if request.transport is not None:
            request.transport.close()


async def forward(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: CIMultiDict[str],
    body: bytes | RequestStream,
    timeout: aiohttp.ClientTimeout,
    policy: EffectivePolicy,
    limits: InspectionConfig,
) -> Buffered | PendingStream:
    """Send the request upstream; read the response whole, or hold it as a :class:`PendingStream`."""
    if isinstance(body, RequestStream):
        data: object = body.chunks()
        if body.declared is not None:
            headers = CIMultiDict(headers)
            headers["Content-Length"] = str(body.declared)
    else:
        data = body or None
    try:
        resp = await session.request(method, url, headers=headers, data=data, timeout=timeout,
                                     allow_redirects=False)
    except AduanaError:
        raise
    except (TimeoutError, aiohttp.ServerTimeoutError, aiohttp.ClientError) as exc:
        cause = body.failure(exc) if isinstance(body, RequestStream) else None
        if cause is not None:
            raise cause from exc
        if isinstance(exc, aiohttp.ClientError) and not isinstance(exc, aiohttp.ServerTimeoutError):
            raise UpstreamError(f"upstream failed: {type(exc).__name__}") from exc
        raise UpstreamTimeout("upstream timed out") from exc
    try:
        guards.check_response_coding(resp.headers)  # before a byte of a compressed body is read
        declared = resp.content_length
        if should_stream(resp.headers.get("Content-Type"), declared, policy, limits):
            if declared is not None and declared > limits.max_passthrough_bytes:
                raise UpstreamError("upstream body over the pass-through limit", reason="upstream_body_too_large")
            return PendingStream(resp, limits.max_passthrough_bytes)
        limit = limits.max_body_bytes
        if declared is not None and declared > limit:
            raise UpstreamError("upstream body over the limit", reason="upstream_body_too_large")
        body_read = await guards.read_capped(resp.content, limit, lambda: UpstreamError(
            "upstream body over the limit", reason="upstream_body_too_large"))
        result = Buffered(resp.status, CIMultiDict(resp.headers), body_read)
    except AduanaError:
        resp.close()
        raise
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        resp.close()
        raise UpstreamTimeout("upstream timed out") from exc
    except aiohttp.ClientError as exc:
        resp.close()
        raise UpstreamError(f"upstream failed: {type(exc).__name__}") from exc
    resp.release()
    return result
