"""The request pipeline: authenticate → resolve route → inspect → forward → inspect → audit → respond.

Rules this module keeps:
1. Fail closed: any error before the response is released means the caller gets a JSON error (request
   id, reason code, no internal detail) and the upstream body is not released.
2. Nothing is forwarded that was not fully inspected: a body is sent upstream only after its whole
   inspection succeeded; a partly inspected body never exists outside this function.
3. No access without a record: the audit record is durably written before the response is returned;
   if that fails, the caller gets 503 instead of the data.
4. Logs and audit records carry ids, templates, reason codes and counts, never a value.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from gateway.audit import AuditEvent, AuditLog
from gateway.config import Config
from gateway.credentials import Credentials
from gateway.errors import (
    AduanaError,
    AuditError,
    AuthenticationError,
    BadRequestError,
    PayloadTooLargeError,
    PluginError,
    UnsupportedMediaError,
    UpstreamError,
    UpstreamTimeout,
)
from gateway.inspect.inspector import Inspector
from gateway.inspect.transform import Outcome
from gateway.lifecycle.state import ContractTerminated, check_active
from gateway.metrics import Metrics
from gateway.oplog import get_logger
from gateway.pluginmanager import Plugins
from gateway.policy.merge import EffectivePolicy
from gateway.proxy.message import Message, Principal
from gateway.proxy.routes import Match, Router, check_raw_path

T = TypeVar("T")

HOP_BY_HOP = frozenset(
    h.lower()
    for h in ("Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
              "Transfer-Encoding", "Upgrade")
)
# Never passed from the vendor to the upstream: the vendor's credentials and anything that would let the
# upstream send a body we cannot inspect.
_REQUEST_STRIP = HOP_BY_HOP | {"authorization", "cookie", "host", "content-length", "content-encoding",
                               "accept-encoding", "x-request-id", "expect"}
_RESPONSE_STRIP = HOP_BY_HOP | {"set-cookie", "content-length", "content-encoding", "x-request-id", "server",
                                "www-authenticate"}


@dataclass
class Trace:
    """What one request did, for the audit record, the log line and the metrics."""

    request_id: str
    method: str
    started: float = field(default_factory=time.perf_counter)
    principal: Principal | None = None
    match: Match | None = None
    decision: Literal["forwarded", "blocked", "failed"] = "failed"
    reason: str = "internal_error"
    upstream_status: int | None = None
    outcome: Outcome = field(default_factory=Outcome)
    bytes_in: int = 0
    bytes_out: int = 0
    annotations: dict[str, Any] = field(default_factory=dict)

    @property
    def latency_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)


def error_response(exc: AduanaError, request_id: str) -> web.Response:
    body = {"error": {"reason": exc.reason, "message": exc.public_message, "request_id": request_id}}
    headers = {"X-Request-Id": request_id}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="aduana"'
    return web.json_response(body, status=exc.status, headers=headers)


class Pipeline:
    """The vendor-facing request handler of one gateway process."""

    def __init__(
        self,
        config: Config,
        plugins: Plugins,
        policies: dict[tuple[str, str], EffectivePolicy],
        inspector: Inspector,
        credentials: Credentials,
        audit: AuditLog,
        session: aiohttp.ClientSession,
        store_executor: Executor,
        metrics: Metrics,
    ) -> None:
        self.config = config
        self.plugins = plugins
        self.policies = policies
        self.inspector = inspector
        self.credentials = credentials
        self.audit = audit
        self.session = session
        self._store = store_executor
        self.metrics = metrics
        self.router = Router(config)
        self.log = get_logger()

    async def _on_store(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._store, fn, *args)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        trace = Trace(request_id=uuid.uuid4().hex, method=request.method)
        try:
            response: web.StreamResponse = await self._handle(request, trace)
            trace.decision, trace.reason = "forwarded", "ok"
        except AduanaError as exc:
            trace.decision = "blocked" if exc.status < 500 else "failed"
            trace.reason = exc.reason
            response = error_response(exc, trace.request_id)
        except Exception as exc:  # a bug must still fail closed, with a record
            trace.decision, trace.reason = "failed", "internal_error"
            self.log.error("unexpected_error", request_id=trace.request_id, error=type(exc).__name__)
            response = error_response(AduanaError(), trace.request_id)
        try:
            await self._on_store(self.audit.append, self._event(trace))
        except Exception as exc:
            trace.decision, trace.reason = "failed", "audit_write_failed"
            self.log.error("audit_write_failed", request_id=trace.request_id, error=type(exc).__name__)
            response = error_response(AuditError(), trace.request_id)
        self._observe(trace, response)
        return response

    async def _handle(self, request: web.Request, trace: Trace) -> web.StreamResponse:
        # 1. who is calling, and is their contract still in force
        try:
            principal = await self._on_store(self._authenticate, request)
        except ContractTerminated as exc:  # audited under the terminated contract and credential
            trace.principal = Principal(contract=exc.contract, credential_id=exc.credential_id or "-")
            raise
        trace.principal = principal

        # 2. which route, and is it allowed
        raw_path = request.raw_path.split("?", 1)[0]
        path = check_raw_path(raw_path)
        match = self.router.resolve(path, request.method, principal.contract)
        trace.match = match
        route = match.route
        policy = self.policies[(match.contract, route.name)]
        limit = self.config.inspection.max_body_bytes

        # 3. the request body, bounded
        body = await _read_body(request, limit)
        trace.bytes_in = len(body)

        # 4. the request's way upstream: restored, or protected (body, path values, query values)
        segments = match.rest.strip("/").split("/") if match.rest.strip("/") else []
        query = list(request.rel_url.query.items())
        param_values = [segments[i] for i in match.param_segments]
        content_type = request.headers.get("Content-Type")
        if route.protect == "request":
            result = await self.inspector.protect_body(body, content_type, policy, match.contract)
            texts = [(f"path:{i}", v) for i, v in zip(match.param_segments, param_values, strict=True)]
            texts += [(f"query:{k}", v) for k, v in query]
            new_texts, text_outcome = await self.inspector.protect_texts(texts, policy, match.contract)
        else:
            result = await self.inspector.restore_body(body, content_type, policy, match.contract)
            new_texts, text_outcome = await self.inspector.restore_texts(
                param_values + [v for _, v in query], match.contract
            )
        trace.outcome.merge(result.outcome)
        trace.outcome.merge(text_outcome)
        for i, value in zip(match.param_segments, new_texts[: len(param_values)], strict=True):
            segments[i] = value
        query = [(k, v) for (k, _), v in zip(query, new_texts[len(param_values):], strict=True)]

        url = route.upstream + "/" + "/".join(quote(s, safe="") for s in segments)
        if match.rest.endswith("/") and segments:
            url += "/"
        if query:
            url += "?" + urlencode(query)

        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in _REQUEST_STRIP
            and k.lower() not in _connection_tokens(request.headers)
        )
        if result.content_type:
            headers["Content-Type"] = result.content_type
        headers["Accept-Encoding"] = "identity"
        headers["X-Request-Id"] = trace.request_id
        headers.update(route.upstream_headers)

        outgoing = Message(trace.request_id, match.contract, route.name, "request", request.method,
                           match.template, headers, result.body, result.content_type or "")
        await self._hook(self.plugins.before_upstream, outgoing)
        trace.annotations.update(outgoing.annotations)

        # 5. forward
        status, resp_headers, resp_body = await self._forward(
            request.method, url, outgoing.headers, outgoing.body, route.timeouts.connect_seconds,
            route.timeouts.read_seconds, limit,
        )
        trace.upstream_status = status

        # 6. the response's way back: protected, or restored
        if resp_headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
            raise UnsupportedMediaError("upstream sent a compressed body", reason="upstream_compressed")
        resp_type = resp_headers.get("Content-Type")
        if route.protect == "response":
            back = await self.inspector.protect_body(resp_body, resp_type, policy, match.contract)
        else:
            back = await self.inspector.restore_body(resp_body, resp_type, policy, match.contract)
        trace.outcome.merge(back.outcome)

        out_headers = CIMultiDict(
            (k, v) for k, v in resp_headers.items() if k.lower() not in _RESPONSE_STRIP
            and k.lower() not in _connection_tokens(resp_headers)
        )
        if back.content_type:
            out_headers["Content-Type"] = back.content_type
        incoming = Message(trace.request_id, match.contract, route.name, "response", request.method,
                           match.template, out_headers, back.body, back.content_type or "", status=status)
        await self._hook(self.plugins.after_upstream, incoming)
        trace.annotations.update(incoming.annotations)

        incoming.headers["X-Request-Id"] = trace.request_id
        trace.bytes_out = len(incoming.body)
        return web.Response(status=status, body=incoming.body, headers=incoming.headers)

    def _authenticate(self, request: web.Request) -> Principal:
        """The caller's principal (on a store thread); a terminated contract is refused (403)."""
        principal = self.plugins.authenticate(request.headers.get("Authorization"), request.headers, self.credentials)
        if principal is None:
            raise AuthenticationError("no credentials")
        check_active(self.audit.db, principal.contract, principal.credential_id)
        return principal

    @staticmethod
    async def _hook(call: Callable[[Message], Awaitable[None]], message: Message) -> None:
        # A hook sees a copy of the body's state; if it changes the body the message is refused rather
        # than forwarding something that was not inspected. (The plugin manager already refuses a
        # change per implementation, naming the plugin; this is the pipeline's own last check.)
        before = message.body
        await call(message)
        if message.body is not before and message.body != before:
            raise PluginError("hook", "a hook changed the body after inspection")

    async def _forward(
        self, method: str, url: str, headers: CIMultiDict[str], body: bytes, connect: float, read: float,
        limit: int,
    ) -> tuple[int, CIMultiDict[str], bytes]:
        timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)
        try:
            async with self.session.request(method, url, headers=headers, data=body or None, timeout=timeout,
                                            allow_redirects=False) as resp:
                declared = resp.content_length
                if declared is not None and declared > limit:
                    raise UpstreamError("upstream body over the limit", reason="upstream_body_too_large")
                chunks = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > limit:
                        raise UpstreamError("upstream body over the limit", reason="upstream_body_too_large")
                    chunks.append(chunk)
                return resp.status, CIMultiDict(resp.headers), b"".join(chunks)
        except AduanaError:
            raise
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout("upstream timed out") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"upstream failed: {type(exc).__name__}") from exc

    def _event(self, trace: Trace) -> AuditEvent:
        match = trace.match
        contract = trace.principal.contract if trace.principal else None
        policy = self.policies.get((match.contract, match.route.name)) if match else None
        return AuditEvent(
            kind="request",
            action="proxy",
            request_id=trace.request_id,
            contract=contract,
            vendor=self.config.contracts[contract].vendor if contract in self.config.contracts else None,
            credential_id=trace.principal.credential_id if trace.principal else None,
            route=match.route.name if match else None,
            method=trace.method,
            path_template=match.template if match else None,
            decision=trace.decision,
            reason=trace.reason,
            upstream_status=trace.upstream_status,
            entities=trace.outcome.as_dict(),
            policy=[p.as_dict() for p in policy.packs] if policy else [],
            bytes_in=trace.bytes_in,
            bytes_out=trace.bytes_out,
            latency_ms=trace.latency_ms,
            details={"restored": trace.outcome.restored, "unknown_tokens": trace.outcome.unknown_tokens,
                     **({"annotations": sorted(trace.annotations)} if trace.annotations else {})},
        )

    def _observe(self, trace: Trace, response: web.StreamResponse) -> None:
        contract = trace.principal.contract if trace.principal else "-"
        route = trace.match.route.name if trace.match else "-"
        self.metrics.requests.labels(contract, route, trace.decision).inc()
        self.metrics.latency.labels(contract, route).observe(trace.latency_ms / 1000)
        for entity_type, actions in trace.outcome.entities.items():
            for action, n in actions.items():
                self.metrics.findings.labels(entity_type, action).inc(n)
        if trace.decision != "forwarded":
            self.metrics.blocked.labels(trace.reason).inc()
        self.log.info(
            "request",
            request_id=trace.request_id,
            contract=contract,
            route=route,
            method=trace.method,
            path=trace.match.template if trace.match else None,
            status=response.status,
            decision=trace.decision,
            reason=trace.reason,
            upstream_status=trace.upstream_status,
            latency_ms=trace.latency_ms,
            entities=trace.outcome.as_dict(),
            restored=trace.outcome.restored,
            unknown_tokens=trace.outcome.unknown_tokens,
        )


def _connection_tokens(headers: Any) -> frozenset[str]:
    return frozenset(t.strip().lower() for v in headers.getall("Connection", []) for t in v.split(","))


async def _read_body(request: web.Request, limit: int) -> bytes:
    """Read the whole request body up to ``limit`` bytes; refuse larger or compressed bodies."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", ""):
        raise UnsupportedMediaError("compressed request body", reason="compressed_body")
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLargeError("declared body over the limit")
    chunks = []
    size = 0
    try:
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError("body over the limit")
            chunks.append(chunk)
    except aiohttp.ClientPayloadError as exc:  # pragma: no cover - aiohttp raises this on bad framing
        raise BadRequestError("malformed body framing", reason="malformed_body") from exc
    return b"".join(chunks)

