"""The request pipeline: authenticate → resolve route → inspect → forward → inspect → audit → respond.

Rules this module keeps:
1. Fail closed: any error before the response is released means the caller gets a JSON error (request
   id, reason code, no internal detail) and the upstream body is not released.
2. Nothing is forwarded that was not fully inspected: a body is sent upstream only after its whole
   inspection succeeded; a partly inspected body never exists outside this function.
3. No access without a record: the audit record is durably written before the response is returned
   (a streamed response: before its first byte, see ``gateway/proxy/streaming.py``); if that fails, the
   caller gets 503 instead of the data.
4. No forwarding without a record: a ``proxy.forwarding`` record (what was decided, found and done) is
   durably written before the upstream call, so a crash between forward and outcome still leaves one.
   If it cannot be written, nothing is forwarded (503 ``audit_write_failed``). A handler cancelled
   mid-request (shutdown, client gone) still gets its ``proxy`` outcome record (``cancelled``).
5. Logs and audit records carry ids, templates, reason codes and counts, never a value.
6. A credential answered from memory (``gateway/proxy/authcache.py``) is re-checked in the store — key not
   revoked, contract active — in the same store call that writes the ``proxy.forwarding`` record, so no
   request of a revoked key or an ended contract is forwarded, whoever revoked or ended it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from gateway.audit import AuditEvent, AuditLog
from gateway.audit.record import Decision
from gateway.config import Config
from gateway.credentials import Credentials
from gateway.errors import (
    AduanaError,
    AuditError,
    AuthenticationError,
    MalformedRequestError,
    PluginError,
)
from gateway.inspect.inspector import Inspector
from gateway.inspect.transform import Outcome
from gateway.lifecycle.state import ContractTerminated, check_active, check_still_serving
from gateway.metrics import Metrics
from gateway.oplog import get_logger
from gateway.pluginmanager import Plugins
from gateway.policy.merge import EffectivePolicy
from gateway.proxy import guards
from gateway.proxy.authcache import CredentialCache
from gateway.proxy.message import Message, Principal
from gateway.proxy.peer import CertificateRefused, PeerCertificate, peer_certificate
from gateway.proxy.routes import Match, Router, check_raw_path
from gateway.proxy.streaming import PendingStream, RequestStream, forward, should_stream

T = TypeVar("T")

HOP_BY_HOP = frozenset(
    h.lower()
    for h in ("Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
              "Transfer-Encoding", "Upgrade")
)
#: The action of the record written before a request is forwarded (rule 4); the outcome's is ``proxy``.
FORWARDING_ACTION = "proxy.forwarding"

# Never passed from the vendor to the upstream: the vendor's credentials and anything that would let the
# upstream send a body we cannot inspect.
_REQUEST_STRIP = HOP_BY_HOP | {"authorization", "cookie", "host", "content-length", "content-encoding",
                               "accept-encoding", "x-request-id", "expect"}


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
    #: Directions whose body was streamed through uninspected ("request", "response").
    streamed: list[str] = field(default_factory=list)

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
        self.auth_cache = CredentialCache(
            config.auth.credential_cache_seconds if _builtin_authenticators_only(plugins) else 0.0)

    async def _on_store(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._store, fn, *args)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        trace = Trace(request_id=uuid.uuid4().hex, method=request.method)
        try:
            response: web.StreamResponse | PendingStream = await self._handle(request, trace)
            trace.decision, trace.reason = "forwarded", "ok"
        except AduanaError as exc:
            trace.decision = "blocked" if exc.status < 500 else "failed"
            trace.reason = exc.reason
            response = error_response(exc, trace.request_id)
        except asyncio.CancelledError:
            # Shutdown or a lost client: the record is written on the store pool, which finishes the
            # write even though this task is being cancelled (rule 4).
            trace.decision, trace.reason = "failed", "cancelled"
            self._record_despite_cancel(trace)
            raise
        except Exception as exc:  # a bug must still fail closed, with a record
            trace.decision, trace.reason = "failed", "internal_error"
            self.log.error("unexpected_error", request_id=trace.request_id, error=type(exc).__name__)
            response = error_response(AduanaError(), trace.request_id)
        response = await self._record_outcome(trace, self._event(trace), response)
        if isinstance(response, PendingStream):
            response = await self._release(request, response, trace)
        self._observe(trace, response)
        return response

    async def _release(self, request: web.Request, pending: PendingStream, trace: Trace) -> web.StreamResponse:
        """Stream a response whose audit record is written; record a cut-off in a second record."""
        try:
            response = await pending.release(request)
        except asyncio.CancelledError:  # the client left and aiohttp cancelled the handler mid-stream
            trace.bytes_out = pending.sent
            trace.decision, trace.reason = "failed", pending.cut_reason or "cancelled"
            self._record_despite_cancel(trace)
            raise
        except Exception as exc:  # a bug mid-stream: the bytes already left, so the cut is still recorded
            self.log.error("unexpected_error", request_id=trace.request_id, error=type(exc).__name__)
            await self._record_cut(request, pending, trace, "internal_error")
            raise
        trace.bytes_out = pending.sent
        if pending.cut_reason is not None:
            await self._record_cut(request, pending, trace, pending.cut_reason)
        return response

    async def _record_cut(self, request: web.Request, pending: PendingStream, trace: Trace, reason: str) -> None:
        """Record a transfer cut after its first bytes left, then close the connection without the final chunk."""
        trace.bytes_out = pending.sent
        trace.decision, trace.reason = "failed", reason
        try:  # the bytes already left; on failure the log keeps what the trail could not
            await self._record_quietly(self._event(trace))
        finally:
            pending.abort(request)

    async def _record_outcome(
        self, trace: Trace, event: AuditEvent, response: web.StreamResponse | PendingStream
    ) -> web.StreamResponse | PendingStream:
        """Write the outcome record; if it cannot be written the answer becomes 503 (rule 3)."""
        try:
            await self._on_store(self.audit.append, event)
        except Exception as exc:
            trace.decision, trace.reason = "failed", "audit_write_failed"
            self.log.error("audit_write_failed", request_id=trace.request_id, error=type(exc).__name__)
            if isinstance(response, PendingStream):
                response.close()  # not one byte of an unrecorded response
            return error_response(AuditError(), trace.request_id)
        return response

    async def _handle(self, request: web.Request, trace: Trace) -> web.StreamResponse | PendingStream:
        # 1. who is calling, and is their contract still in force
        # The peer certificate is read here, on the event loop that owns the connection.
        peer = peer_certificate(request)
        cache_key = self.auth_cache.key(request.headers.get("Authorization"), peer)
        # A remembered principal skips the store here; it is re-checked before forwarding (step 5).
        recheck = principal = self.auth_cache.get(cache_key)
        if principal is None:
            try:
                principal = await self._on_store(self._authenticate, request, peer, cache_key)
            except (ContractTerminated, CertificateRefused) as exc:  # audited under the key's contract and credential
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

        # 3. the request body, bounded (a large one the policy passes uninspected is streamed instead)
        stream: RequestStream | None = None
        if request.body_exists and should_stream(
            request.headers.get("Content-Type"), request.content_length, policy, self.config.inspection
        ):
            guards.check_codings(request.headers)
            stream = RequestStream(request, self.config.inspection.max_passthrough_bytes)
            trace.streamed.append("request")
            body = b""  # nothing to inspect: the policy passes this type
        else:
            body = await guards.read_body(request, limit)
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
        if result.disposition == "pass":
            guards.check_declared_type(body, content_type)
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

        # 5. forward, after the record that says so is durable (rule 4)
        forwarding = self._event(trace, action=FORWARDING_ACTION, decision="done", reason="forwarding")
        try:
            await self._on_store(self._forwarding_record, forwarding, recheck)
        except (AuthenticationError, ContractTerminated):  # a remembered key revoked since: refused, audited
            self.auth_cache.forget(cache_key)
            raise
        except Exception as exc:
            self.log.error("audit_write_failed", request_id=trace.request_id, error=type(exc).__name__)
            raise AuditError("forwarding record not written") from exc
        connect, read = route.timeouts.connect_seconds, route.timeouts.read_seconds
        timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)
        try:
            upstream = await forward(self.session, request.method, url, outgoing.headers,
                                     stream if stream is not None else outgoing.body, timeout, policy,
                                     self.config.inspection)
        finally:
            if stream is not None:
                trace.bytes_in = stream.size
        trace.upstream_status = upstream.status
        if isinstance(upstream, PendingStream):
            try:
                return await self._pending_response(request, upstream, trace, match)
            except BaseException:
                upstream.close()
                raise
        status, resp_headers, resp_body = upstream.status, upstream.headers, upstream.body

        # 6. the response's way back: protected, or restored
        resp_type = resp_headers.get("Content-Type")
        if route.protect == "response":
            back = await self.inspector.protect_body(resp_body, resp_type, policy, match.contract)
        else:
            back = await self.inspector.restore_body(resp_body, resp_type, policy, match.contract)
        if back.disposition == "pass":
            guards.check_declared_type(resp_body, resp_type)
        trace.outcome.merge(back.outcome)

        # Only allow-listed headers reach the vendor: any other header is data inspection never saw.
        out_headers = guards.response_headers(resp_headers)
        if back.content_type:
            out_headers["Content-Type"] = back.content_type
        incoming = Message(trace.request_id, match.contract, route.name, "response", request.method,
                           match.template, out_headers, back.body, back.content_type or "", status=status)
        await self._hook(self.plugins.after_upstream, incoming)
        trace.annotations.update(incoming.annotations)

        incoming.headers["X-Request-Id"] = trace.request_id
        trace.bytes_out = len(incoming.body)
        return web.Response(status=status, body=incoming.body, headers=incoming.headers)

    async def refuse_malformed(self, status: int, request_id: str) -> web.StreamResponse:
        """Record and answer a request aiohttp refused before the pipeline saw it (``http_malformed``).

        Only ``status`` is known of it (``gateway/server/protocol.py``). The answer is the JSON error under
        ``request_id``, the id of its record; if the record cannot be written, 503 ``audit_write_failed``
        under the same id, as for any other request (rule 3).
        """
        trace = Trace(request_id=request_id, method="", decision="blocked", reason="http_malformed")
        event = dataclasses.replace(self._event(trace), method=None, details={"status": status})
        response = await self._record_outcome(
            trace, event, error_response(MalformedRequestError(status=status), request_id))
        assert not isinstance(response, PendingStream)
        self._observe(trace, response)
        return response

    def _record_despite_cancel(self, trace: Trace) -> None:
        """Record a cancelled request on the store pool, which finishes the write though the task ends."""
        self._submit_record(self._event(trace))

    async def _record_quietly(self, event: AuditEvent) -> None:
        """Record what already happened; a failure (store or pool) is logged, not raised.

        The write survives the caller's cancellation: a client that leaves makes aiohttp cancel the handler
        (when ``handler_cancellation`` is on), and ``run_in_executor`` would then drop a write still queued
        on the store pool, losing the record of a response that was already (partly) sent.
        """
        written = self._submit_record(event)
        if written is not None:
            await asyncio.shield(asyncio.wrap_future(written))

    def _submit_record(self, event: AuditEvent) -> Future[None] | None:
        """Queue ``event`` on the store pool; None (and a log line) when the pool is already shut down."""
        try:
            return self._store.submit(self._append_quietly, event)
        except RuntimeError:
            self.log.error("audit_write_failed", request_id=event.request_id, error="executor_shutdown")
            return None

    def _append_quietly(self, event: AuditEvent) -> None:
        """Append ``event``; a failure is logged, not raised (for records of what already happened)."""
        try:
            self.audit.append(event)
        except Exception as exc:
            self.log.error("audit_write_failed", request_id=event.request_id, error=type(exc).__name__)

    async def _pending_response(
        self, request: web.Request, upstream: PendingStream, trace: Trace, match: Match
    ) -> PendingStream:
        """Step 6 for a response streamed through uninspected: headers and hooks only, no body yet."""
        resp_headers = upstream.upstream_headers
        upstream.headers = guards.response_headers(resp_headers)
        incoming = Message(trace.request_id, match.contract, match.route.name, "response", request.method,
                           match.template, upstream.headers, b"", resp_headers.get("Content-Type") or "",
                           status=upstream.status)
        await self._hook(self.plugins.after_upstream, incoming)
        trace.annotations.update(incoming.annotations)
        upstream.headers = incoming.headers
        upstream.headers["X-Request-Id"] = trace.request_id
        trace.streamed.append("response")
        trace.bytes_out = upstream.declared or 0
        return upstream

    def _authenticate(self, request: web.Request, peer: PeerCertificate | None, cache_key: bytes | None) -> Principal:
        """The caller's principal (on a store thread); a terminated contract is refused (403)."""
        started = self.auth_cache.now()
        principal = self.plugins.authenticate(request.headers.get("Authorization"), request.headers, self.credentials,
                                              peer, self.config.contracts)
        if principal is None:
            raise AuthenticationError("no credentials")
        check_active(self.audit.db, principal.contract, principal.credential_id)
        self.auth_cache.put(cache_key, principal, started)
        return principal

    def _forwarding_record(self, event: AuditEvent, recheck: Principal | None) -> None:
        """Write the ``proxy.forwarding`` record (on a store thread); first re-check a remembered principal.

        The re-check makes a revocation or termination done anywhere (the CLI, another replica) refuse the
        next request, cached or not: the key must still be unrevoked and its contract active.
        """
        if recheck is not None:
            check_still_serving(self.audit.db, recheck.contract, recheck.credential_id)
        self.audit.append(event)

    @staticmethod
    async def _hook(call: Callable[[Message], Awaitable[None]], message: Message) -> None:
        # A hook sees a copy of the body's state; if it changes the body the message is refused rather
        # than forwarding something that was not inspected. (The plugin manager already refuses a
        # change per implementation, naming the plugin; this is the pipeline's own last check.)
        before = message.body
        await call(message)
        if message.body is not before and message.body != before:
            raise PluginError("hook", "a hook changed the body after inspection")

    def _event(self, trace: Trace, *, action: str = "proxy", decision: Decision | None = None,
               reason: str | None = None) -> AuditEvent:
        """The audit event of ``trace`` (the outcome record unless ``action`` etc. say otherwise)."""
        match = trace.match
        contract = trace.principal.contract if trace.principal else None
        policy = self.policies.get((match.contract, match.route.name)) if match else None
        return AuditEvent(
            kind="request",
            action=action,
            request_id=trace.request_id,
            contract=contract,
            vendor=self.config.contracts[contract].vendor if contract in self.config.contracts else None,
            credential_id=trace.principal.credential_id if trace.principal else None,
            route=match.route.name if match else None,
            method=trace.method,
            path_template=match.template if match else None,
            decision=decision or trace.decision,
            reason=reason or trace.reason,
            upstream_status=trace.upstream_status,
            entities=trace.outcome.as_dict(),
            policy=[p.as_dict() for p in policy.packs] if policy else [],
            bytes_in=trace.bytes_in,
            bytes_out=trace.bytes_out,
            latency_ms=trace.latency_ms,
            details={"restored": trace.outcome.restored, "unknown_tokens": trace.outcome.unknown_tokens,
                     **({"annotations": sorted(trace.annotations)} if trace.annotations else {}),
                     **({"streamed": list(trace.streamed)} if trace.streamed else {})},
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


def _builtin_authenticators_only(plugins: Plugins) -> bool:
    """Whether every ``aduana_authenticate`` implementation is a built-in (authcache rule 4)."""
    return all(plugins.is_builtin(info.name) for info in plugins.list() if "aduana_authenticate" in info.hooks)


def _connection_tokens(headers: Any) -> frozenset[str]:
    return frozenset(t.strip().lower() for v in headers.getall("Connection", []) for t in v.split(","))
