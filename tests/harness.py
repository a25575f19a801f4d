"""Real parts for end-to-end tests: the example helpdesk and a gateway, both on loopback.

``GatewayHarness`` writes a config file, creates a master key, migrates a real SQLite store, starts the
gateway's vendor and admin applications on ephemeral loopback ports, and issues vendor keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner

from gateway import oplog
from gateway.config import load_config
from gateway.credentials import Credentials
from gateway.keys.provider import init_key_file
from gateway.proxy.pipeline import FORWARDING_ACTION
from gateway.runtime import Runtime, key_provider, open_runtime
from gateway.server.app import init_admin_app, init_app
from gateway.server.protocol import GatewayRunner
from gateway.server.tls import server_context
from gateway.store import open_database
from gateway.store.migrations import migrate

HELPDESK_TOKEN = "helpdesk-secret-token"

HELPDESK_ROUTE: dict[str, Any] = {
    "name": "helpdesk",
    "prefix": "/helpdesk",
    "methods": ["GET", "POST"],
    "paths": [
        "/api/tickets",
        "/api/tickets/{id}",
        "/api/tickets/{id}/comments",
        "/api/tickets/{id}/notes",
        "/api/tickets/{id}/summary.txt",
        "/api/tickets/{id}/attachment",
        "/api/tickets/{id}/email",
        "/api/customers",
        "/api/slow",
        "/api/big",
    ],
    "upstream_headers": {"Authorization": f"Bearer {HELPDESK_TOKEN}"},
}


def gateway_config(upstream: str, **overrides: Any) -> dict[str, Any]:
    """A config dict with two contracts in front of ``upstream`` (the second to test isolation)."""
    route = {**HELPDESK_ROUTE, "upstream": upstream + "/"}
    config: dict[str, Any] = {
        "listeners": {"vendor": {"host": "127.0.0.1", "port": 0}, "admin": {"host": "127.0.0.1", "port": 0}},
        "store": {"url": "sqlite:///state/aduana.db"},
        "keys": {"master_key": "file:state/master.key"},
        "inspection": {"workers": 1, "timeout_seconds": 30, "max_body_bytes": 256 * 1024},
        "logging": {"level": "info", "file": "state/aduana.log"},
        "contracts": {
            "acme": {
                "vendor": "Acme Contact Center",
                "policy_packs": ["baseline", "gdpr", "hipaa", "pci-dss"],
                "routes": [route],
            },
            "globex": {
                "vendor": "Globex Outsourcing",
                "policy_packs": ["baseline", "gdpr"],
                "routes": [{**route, "name": "globex-helpdesk", "prefix": "/globex"}],
            },
        },
    }
    for key, value in overrides.items():
        config[key] = value
    return config


class GatewayTestServer(TestServer):
    """aiohttp's ``TestServer`` with the runner ``aduana serve`` uses (``gateway/server/protocol.py``)."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        # TestServer asks for handler cancellation; ``aduana serve`` runs without it, and so do the tests,
        # so that a client leaving mid-response takes the same path here as in production.
        kwargs["handler_cancellation"] = False
        return GatewayRunner(self.app, **kwargs)


@dataclass
class GatewayHarness:
    directory: Path
    config_data: Mapping[str, Any]
    runtime: Runtime | None = None
    vendor: TestServer | None = None
    admin: TestServer | None = None
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.directory / "aduana.yaml"

    async def start(self) -> GatewayHarness:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(dict(self.config_data), sort_keys=False), encoding="utf-8")
        config = load_config(self.config_path)
        oplog.configure(config.logging.level, config.resolve(config.logging.file) if config.logging.file else None)
        key_path = config.resolve(config.keys.master_key.removeprefix("file:"))
        if not key_path.exists():
            init_key_file(key_path)
        db = open_database(config.store_url)
        migrate(db)
        db.close()
        self.runtime = open_runtime(config)
        app = init_app(self.runtime, checkpoint_interval=3600)
        # listeners.vendor.tls: the vendor listener serves TLS (and mTLS) exactly as `aduana serve` does.
        tls = config.listeners.vendor.tls
        ssl_context = server_context(tls, config.resolve) if tls is not None else None
        self.vendor = GatewayTestServer(app, host="127.0.0.1", port=0)
        await self.vendor.start_server(ssl=ssl_context)
        self.admin = TestServer(init_admin_app(app), host="127.0.0.1", port=0)
        await self.admin.start_server()
        return self

    def issue_key(self, contract: str) -> str:
        assert self.runtime is not None
        master = key_provider(self.runtime.config, self.runtime.plugins).master_key()
        _, key = Credentials(self.runtime.db, master).issue(contract)
        self.keys[contract] = key
        return key

    def record(self, request_id: str) -> dict[str, Any]:
        """The audit record of a request's outcome (not the ``proxy.forwarding`` record written before it)."""
        assert self.runtime is not None
        with self.runtime.db.transaction() as tx:
            rows = tx.fetchall("SELECT body FROM audit_records ORDER BY seq")
        (found,) = [r for r in (json.loads(b) for (b,) in rows)
                    if r.get("request_id") == request_id and r.get("action") != FORWARDING_ACTION]
        return found

    def url(self, path: str) -> str:
        """The vendor listener's URL for ``path``, exactly as written (no normalization of ``..``)."""
        assert self.vendor is not None
        return str(self.vendor.make_url("/")).rstrip("/") + path

    def admin_url(self, path: str) -> str:
        assert self.admin is not None
        return str(self.admin.make_url(path))

    async def close(self) -> None:
        if self.admin is not None:
            await self.admin.close()
        if self.vendor is not None:
            await self.vendor.close()
        if self.runtime is not None:
            self.runtime.close()
        oplog.close()

    def written_files(self) -> list[Path]:
        """Every file under the gateway's directory (store, WAL, logs, keys, config)."""
        return [p for p in self.directory.rglob("*") if p.is_file()]


async def start_helpdesk(**kwargs: Any) -> tuple[TestServer, web.Application]:
    from helpdesk import make_app

    app = make_app(api_token=HELPDESK_TOKEN, **kwargs)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return server, app


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def get_json(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with session.get(url, **kwargs) as resp:
        return resp.status, await resp.json(content_type=None)


os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
