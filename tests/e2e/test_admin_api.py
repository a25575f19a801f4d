"""The admin API: role-scoped tokens, auditor limits, and every response checked against the OpenAPI file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from click.testing import CliRunner
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from gateway.audit import load_public_keys, verify_export
from gateway.cli import main
from gateway.server.admin_tokens import AdminTokens
from harness import GatewayHarness, bearer, gateway_config, start_helpdesk

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("e2e-admin")]

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "admin-api.yaml"


async def test_the_openapi_document_is_valid() -> None:
    spec, _ = read_from_filename(str(SPEC_PATH))
    validate(spec)


class Admin:
    def __init__(self, gw: GatewayHarness, session: aiohttp.ClientSession) -> None:
        self.gw = gw
        self.session = session
        self.api = OpenAPI.from_file_path(str(SPEC_PATH))
        assert gw.runtime is not None
        tokens = AdminTokens(gw.runtime.db, gw.runtime.keyring)
        self.auditor = tokens.issue("auditor")[1]
        self.operator = tokens.issue("operator")[1]
        self.vendor_key = gw.issue_key("acme")

    async def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> tuple[int, Any, bytes]:
        headers = bearer(token) if token else {}
        async with self.session.request(method, self.gw.admin_url(path), headers=headers, **kwargs) as resp:
            raw = await resp.read()
            content_type = resp.headers.get("Content-Type", "").split(";")[0]
            status = resp.status
        # Every response must match the documented API.
        path_only, _, query = path.partition("?")
        args = dict(p.split("=", 1) for p in query.split("&")) if query else {}
        body = json.dumps(kwargs["json"]).encode() if "json" in kwargs else None
        request = MockRequest("http://127.0.0.1:8081", method.lower(), path_only, args=args, data=body,
                              headers=headers)
        self.api.validate_response(request, MockResponse(raw, status, content_type=content_type))
        parsed = json.loads(raw) if content_type == "application/json" else raw.decode()
        return status, parsed, raw


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def admin(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Admin]:
    server, _ = await start_helpdesk()
    gw = await GatewayHarness(tmp_path_factory.mktemp("admin"),
                              gateway_config(str(server.make_url("")).rstrip("/"))).start()
    async with aiohttp.ClientSession() as session:
        a = Admin(gw, session)
        # Some traffic to audit.
        async with session.get(gw.url("/helpdesk/api/tickets/1004"), headers=bearer(a.vendor_key)) as resp:
            assert resp.status == 200
        yield a
    await gw.close()
    await server.close()


@pytest.mark.parametrize(
    ("method", "path", "token", "status"),
    [
        ("GET", "/api/v1/whoami", None, 401),
        ("GET", "/api/v1/audit/records", "vendor", 401),  # a vendor key is not an admin token
        ("GET", "/api/v1/audit/records", "ada_t_000000000000_forged", 401),
        ("POST", "/api/v1/audit/checkpoints", "auditor", 403),
        ("POST", "/api/v1/vendor-keys", "auditor", 403),
        ("DELETE", "/api/v1/vendor-keys/k_000000000000", "auditor", 403),
    ],
)
async def test_refusals(admin: Admin, method: str, path: str, token: str | None, status: int) -> None:
    presented = {"auditor": admin.auditor, "operator": admin.operator, "vendor": admin.vendor_key}.get(
        token or "", token)
    kwargs: dict[str, Any] = {"json": {"contract": "acme"}} if method == "POST" else {}
    got, body, _ = await admin.call(method, path, presented, **kwargs)
    assert got == status
    assert set(body["error"]) == {"reason", "message", "request_id"}


async def test_auditor_reads_records_without_values(admin: Admin) -> None:
    status, who, _ = await admin.call("GET", "/api/v1/whoami", admin.auditor)
    assert (status, who["role"]) == (200, "auditor")
    status, page, raw = await admin.call("GET", "/api/v1/audit/records?limit=50&contract=acme", admin.auditor)
    assert status == 200
    proxied = [r for r in page["records"] if r["kind"] == "request"]
    assert proxied and proxied[0]["path_template"] == "/helpdesk/api/tickets/{id}"
    assert b"Fern\\u00e1ndez" not in raw and "Fernández".encode() not in raw


async def test_paging(admin: Admin) -> None:
    async with admin.session.get(admin.gw.url("/helpdesk/api/tickets"), headers=bearer(admin.vendor_key)) as resp:
        assert resp.status == 200
    _, first, _ = await admin.call("GET", "/api/v1/audit/records?limit=1", admin.auditor)
    assert len(first["records"]) == 1 and first["next_after_seq"] == first["records"][0]["seq"]
    _, second, _ = await admin.call("GET", f"/api/v1/audit/records?limit=1&after_seq={first['next_after_seq']}",
                                    admin.auditor)
    assert second["records"][0]["seq"] > first["records"][0]["seq"]


async def test_auditor_exports_and_verifies_offline(admin: Admin, tmp_path: Path) -> None:
    status, created, _ = await admin.call("POST", "/api/v1/audit/exports", admin.auditor, json={"format": "jsonl"})
    assert status == 201
    _, _, records = await admin.call("GET", created["records_url"], admin.auditor)
    _, manifest, _ = await admin.call("GET", created["manifest_url"], admin.auditor)
    _, pem, _ = await admin.call("GET", "/api/v1/audit/public-key", admin.auditor)
    (tmp_path / "audit.jsonl").write_bytes(records)
    (tmp_path / "audit.jsonl.manifest.json").write_text(json.dumps(manifest))
    report = verify_export(tmp_path / "audit.jsonl", load_public_keys(pem.encode()))
    assert report.ok, report.problems
    status, verified, _ = await admin.call("GET", "/api/v1/audit/verify", admin.auditor)
    assert (status, verified["intact"]) == (200, True)


async def test_operator_manages_vendor_keys_and_is_audited(admin: Admin) -> None:
    status, issued, _ = await admin.call("POST", "/api/v1/vendor-keys", admin.operator, json={"contract": "globex"})
    assert status == 201 and issued["key"].startswith("adu_")
    status, revoked, _ = await admin.call("DELETE", f"/api/v1/vendor-keys/{issued['key_id']}", admin.operator)
    assert status == 200 and revoked["revoked_at"]
    status, _, _ = await admin.call("POST", "/api/v1/audit/checkpoints", admin.operator)
    assert status == 201
    _, page, _ = await admin.call("GET", "/api/v1/audit/records?limit=1000", admin.auditor)
    actions = [(r["action"], r["actor"]) for r in page["records"] if r["kind"] == "admin"]
    assert ("vendor.issue-key", actions[-2][1]) in actions and actions[-1][0] == "vendor.revoke-key"
    assert actions[-1][1].startswith("admin:t_")


async def test_health_endpoints_match_the_spec(admin: Admin) -> None:
    assert (await admin.call("GET", "/healthz", None))[0] == 200
    assert (await admin.call("GET", "/readyz", None))[0] == 200


async def test_cli_issues_lists_and_revokes_tokens(admin: Admin) -> None:
    config = str(admin.gw.config_path)
    runner = CliRunner()
    issued = runner.invoke(main, ["admin", "issue-token", "--role", "auditor", "--config", config])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("ada_t_")
    listed = runner.invoke(main, ["admin", "list-tokens", "--config", config])
    assert token[4:18] in listed.output and token not in listed.output
    assert runner.invoke(main, ["admin", "revoke-token", token[4:18], "--config", config]).exit_code == 0
    assert runner.invoke(main, ["admin", "issue-token", "--role", "root", "--config", config]).exit_code == 2


async def test_export_folder_exists_only_between_first_export_and_shutdown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    server, _ = await start_helpdesk()
    gw = await GatewayHarness(tmp_path / "gw", gateway_config(str(server.make_url("")).rstrip("/"))).start()
    try:
        assert gw.runtime is not None
        assert not list(temp.glob("aduana-exports-*"))  # a gateway that never exports leaves nothing behind
        auditor = AdminTokens(gw.runtime.db, gw.runtime.keyring).issue("auditor")[1]
        async with aiohttp.ClientSession() as session:
            async with session.get(gw.admin_url("/api/v1/audit/exports/abc/records"), headers=bearer(auditor)) as r:
                assert r.status == 404
            async with session.post(gw.admin_url("/api/v1/audit/exports"), headers=bearer(auditor),
                                    json={"format": "jsonl"}) as r:
                assert r.status == 201
        assert len(list(temp.glob("aduana-exports-*"))) == 1
    finally:
        await gw.close()
        await server.close()
    assert not list(temp.glob("aduana-exports-*"))
