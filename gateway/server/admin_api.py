"""The admin HTTP API (on the admin listener, loopback by default), for auditors and operators.

Rules this module keeps:
1. Every route under ``/api/v1`` needs ``Authorization: Bearer ada_…``; the token's role must be in the
   route's allowed roles (401 without a valid token, 403 for the wrong role). Vendor API keys are a
   different kind of credential and are never accepted here.
2. The ``auditor`` role reads the audit trail (records, exports, public key, verification) and nothing
   else: there is no route at all to the vault, the keys or the config.
3. Every action that changes something is itself audited (actor ``admin:<token id>``).
4. Errors are ``{"error": {"reason", "message", "request_id"}}``, like the vendor listener's.

The API is described in ``docs/admin-api.yaml`` (OpenAPI 3.1); the tests validate responses against it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from gateway.audit import AuditEvent, AuditLog, ExportFilter, export, verify_store
from gateway.audit.checkpoint import pem_bundle
from gateway.audit.log import stored_record
from gateway.credentials import Credentials
from gateway.errors import AduanaError, AuthenticationError, BadRequestError, ForbiddenError, NotFoundError
from gateway.runtime import Runtime
from gateway.server.admin_tokens import AdminToken, AdminTokens, Role

T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TOKEN = web.RequestKey("admin_token", AdminToken)
MAX_PAGE = 1000


class AdminError(AuthenticationError):
    public_message = "A valid admin token is required (Authorization: Bearer ada_…)."


def _error(exc: AduanaError, request_id: str) -> web.Response:
    return web.json_response(
        {"error": {"reason": exc.reason, "message": exc.public_message, "request_id": request_id}},
        status=exc.status, headers={"X-Request-Id": request_id},
    )


class AdminApi:
    """Route handlers; the store work runs on ``executor`` (a thread pool), never on the event loop."""

    def __init__(self, runtime: Runtime, audit: AuditLog, run: Callable[..., Awaitable[Any]]) -> None:
        self.rt = runtime
        self.audit = audit
        self.tokens = AdminTokens(runtime.db, runtime.keyring)
        self._run = run
        self._exports: Path | None = None  # a private temp folder, made by the first export

    def _export_dir(self) -> Path:
        if self._exports is None:
            self._exports = Path(tempfile.mkdtemp(prefix="aduana-exports-"))
        return self._exports

    def remove_exports(self) -> None:
        """Delete every export this process made (at shutdown)."""
        if self._exports is not None:
            shutil.rmtree(self._exports, ignore_errors=True)
            self._exports = None

    # --- plumbing ---------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        both: tuple[Role, ...] = ("auditor", "operator")
        op: tuple[Role, ...] = ("operator",)
        return [
            web.get("/api/v1/whoami", self._guard(both, self.whoami)),
            web.get("/api/v1/audit/records", self._guard(both, self.records)),
            web.get("/api/v1/audit/public-key", self._guard(both, self.public_key)),
            web.get("/api/v1/audit/verify", self._guard(both, self.verify)),
            web.post("/api/v1/audit/exports", self._guard(both, self.create_export)),
            web.get("/api/v1/audit/exports/{export_id}/records", self._guard(both, self.export_records)),
            web.get("/api/v1/audit/exports/{export_id}/manifest", self._guard(both, self.export_manifest)),
            web.post("/api/v1/audit/checkpoints", self._guard(op, self.checkpoint)),
            web.post("/api/v1/vendor-keys", self._guard(op, self.issue_vendor_key)),
            web.delete("/api/v1/vendor-keys/{key_id}", self._guard(op, self.revoke_vendor_key)),
        ]

    def _guard(self, roles: Iterable[Role], handler: Handler) -> Handler:
        allowed = frozenset(roles)

        async def guarded(request: web.Request) -> web.StreamResponse:
            request_id = uuid.uuid4().hex
            try:
                scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
                token = None
                if scheme.lower() == "bearer" and presented:
                    token = await self._run(self.tokens.verify, presented.strip())
                if token is None:
                    raise AdminError("no valid admin token", reason="unauthenticated")
                if token.role not in allowed:
                    raise ForbiddenError("role not allowed", reason="role_not_allowed")
                request[TOKEN] = token
                response = await handler(request)
            except AduanaError as exc:
                return _error(exc, request_id)
            response.headers["X-Request-Id"] = request_id
            return response

        return guarded

    def _actor(self, request: web.Request) -> str:
        token = request[TOKEN]
        return f"admin:{token.token_id}"

    async def _record(self, request: web.Request, action: str, **fields: Any) -> None:
        event = AuditEvent(kind="admin", action=action, request_id=uuid.uuid4().hex, decision="done",
                           reason="ok", actor=self._actor(request), **fields)
        await self._run(self.audit.append, event)

    # --- handlers ---------------------------------------------------------------------------------

    async def whoami(self, request: web.Request) -> web.Response:
        token = request[TOKEN]
        return web.json_response({"token_id": token.token_id, "role": token.role})

    async def records(self, request: web.Request) -> web.Response:
        q = request.query
        after = _int(q.get("after_seq", "0"), "after_seq")
        limit = min(_int(q.get("limit", "100"), "limit"), MAX_PAGE)
        if limit < 1:
            raise BadRequestError("limit must be at least 1", reason="bad_parameter")
        sql = "SELECT seq, prev_hash, hash, body FROM audit_records WHERE seq > ?"
        params: list[Any] = [after]
        for name in ("contract", "vendor"):
            if q.get(name):
                sql += f" AND {name} = ?"
                params.append(q[name])
        for name, op in (("from", ">="), ("to", "<")):
            if q.get(name):
                sql += f" AND time {op} ?"
                params.append(_time(q[name], name))
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)

        def read() -> list[dict[str, Any]]:
            with self.rt.db.transaction() as tx:
                rows = tx.fetchall(sql, params)
            return [stored_record(body, prev, own) for _, prev, own, body in rows]

        records = await self._run(read)
        next_after = records[-1]["seq"] if len(records) == limit else None
        return web.json_response({"records": records, "next_after_seq": next_after})

    async def public_key(self, request: web.Request) -> web.Response:
        keys = await self._run(self.audit.public_keys)
        return web.Response(text=pem_bundle(keys.values()), content_type="application/x-pem-file")

    async def verify(self, request: web.Request) -> web.Response:
        report = await self._run(lambda: verify_store(self.rt.db, self.audit.public_keys()))
        return web.json_response({
            "intact": report.ok, "records": report.records, "checkpoints": report.checkpoints,
            "first_bad_seq": report.first_bad_seq, "last_seq": report.last_seq, "last_hash": report.last_hash,
            "problems": [str(p) for p in report.problems[:20]],
        })

    async def create_export(self, request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError as exc:
            raise BadRequestError("malformed JSON", reason="malformed_body") from exc
        if not isinstance(body, dict):
            raise BadRequestError("expected a JSON object", reason="malformed_body")
        fmt = body.get("format", "jsonl")
        if fmt not in ("jsonl", "csv"):
            raise BadRequestError("format must be jsonl or csv", reason="bad_parameter")
        flt = ExportFilter(
            start=_time_obj(body.get("from"), "from"), end=_time_obj(body.get("to"), "to"),
            contract=body.get("contract") or None, vendor=body.get("vendor") or None,
        )
        export_id = uuid.uuid4().hex
        folder = self._export_dir() / export_id
        folder.mkdir(parents=True)
        out = folder / f"audit.{fmt}"
        manifest = await self._run(export, self.audit, out, fmt, flt)
        await self._record(request, "audit.export", details={"records": int(manifest.get("record_count", 0))})
        return web.json_response({
            "id": export_id, "format": fmt, "manifest": manifest,
            "records_url": f"/api/v1/audit/exports/{export_id}/records",
            "manifest_url": f"/api/v1/audit/exports/{export_id}/manifest",
        }, status=201)

    def _export_file(self, request: web.Request, manifest: bool) -> Path:
        export_id = request.match_info["export_id"]
        if not export_id.isalnum():
            raise NotFoundError("no such export", reason="no_export")
        if self._exports is None:
            raise NotFoundError("no such export", reason="no_export")
        folder = self._exports / export_id
        files = sorted(folder.glob("audit.*.manifest.json" if manifest else "audit.jsonl")) + (
            [] if manifest else sorted(folder.glob("audit.csv")))
        if not files:
            raise NotFoundError("no such export", reason="no_export")
        return files[0]

    async def export_records(self, request: web.Request) -> web.StreamResponse:
        path = self._export_file(request, manifest=False)
        content_type = "text/csv" if path.suffix == ".csv" else "application/x-ndjson"
        return web.FileResponse(path, headers={"Content-Type": content_type})

    async def export_manifest(self, request: web.Request) -> web.Response:
        path = self._export_file(request, manifest=True)
        return web.json_response(json.loads(path.read_text(encoding="utf-8")))

    async def checkpoint(self, request: web.Request) -> web.Response:
        checkpoint = await self._run(self.audit.checkpoint)
        return web.json_response(checkpoint, status=201)

    async def issue_vendor_key(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError as exc:
            raise BadRequestError("malformed JSON", reason="malformed_body") from exc
        contract = body.get("contract") if isinstance(body, dict) else None
        if contract not in self.rt.config.contracts:
            raise BadRequestError("unknown contract", reason="unknown_contract")
        creds = Credentials(self.rt.db, self.rt.keyring)
        key_id, key = await self._run(creds.issue, contract)
        await self._record(request, "vendor.issue-key", contract=contract, credential_id=key_id,
                           vendor=self.rt.config.contracts[contract].vendor)
        return web.json_response({"key_id": key_id, "contract": contract, "key": key}, status=201)

    async def revoke_vendor_key(self, request: web.Request) -> web.Response:
        creds = Credentials(self.rt.db, self.rt.keyring)
        cred = await self._run(creds.revoke, request.match_info["key_id"])
        if cred is None:
            raise NotFoundError("no such key", reason="no_key")
        await self._record(request, "vendor.revoke-key", contract=cred.contract, credential_id=cred.key_id)
        return web.json_response({"key_id": cred.key_id, "contract": cred.contract, "revoked_at": cred.revoked_at})


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise BadRequestError(f"{name} must be a whole number", reason="bad_parameter") from exc


def _time_obj(text: object, name: str) -> datetime | None:
    if text in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequestError(f"{name} must be an RFC 3339 time", reason="bad_parameter") from exc
    if moment.tzinfo is None:
        raise BadRequestError(f"{name} must carry a time zone", reason="bad_parameter")
    return moment


def _time(text: str, name: str) -> str:
    from gateway.audit.record import format_time

    moment = _time_obj(text, name)
    assert moment is not None
    return format_time(moment)


def add_admin_api(app: web.Application, runtime: Runtime, audit: AuditLog,
                  run: Callable[..., Awaitable[Any]]) -> None:
    """Mount the API on the admin application; exports live in a private temp folder until shutdown.

    The folder is made by the first export, so a gateway that never exports (or is killed) leaves none.
    """
    api = AdminApi(runtime, audit, run)
    app.add_routes(api.routes())

    async def cleanup(app: web.Application) -> None:
        await asyncio.to_thread(api.remove_exports)

    app.on_cleanup.append(cleanup)
