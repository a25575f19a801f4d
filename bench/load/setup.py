"""A gateway for N vendors in front of the example helpdesk, run as ``aduana serve`` in a subprocess.

Every vendor has its own contract and route prefix ``/v<i>``; even-numbered vendors fetch company data
(``protect: response``), odd-numbered ones receive it through the gateway (``protect: request``), so
both directions are under load at once. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ADUANA = [sys.executable, "-m", "gateway.cli"]
HELPDESK_TOKEN = "helpdesk-secret-token"
PATHS = ["/api/tickets", "/api/tickets/{id}", "/api/tickets/{id}/comments", "/api/slow"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_for(vendors: int, upstream: str, *, vendor_port: int, admin_port: int, workers: int = 2,
               timeout: float = 10, store_url: str = "sqlite:///aduana.db") -> dict[str, Any]:
    contracts = {}
    for i in range(vendors):
        contracts[f"vendor-{i}"] = {
            "vendor": f"Vendor {i}",
            "policy_packs": ["baseline", "gdpr", "pci-dss"],
            "routes": [{
                "name": f"helpdesk-{i}", "prefix": f"/v{i}", "upstream": upstream.rstrip("/") + "/",
                "methods": ["GET", "POST"], "paths": PATHS, "protect": "response" if i % 2 == 0 else "request",
                "upstream_headers": {"Authorization": f"Bearer {HELPDESK_TOKEN}"},
                "timeouts": {"connect_seconds": 5, "read_seconds": 30},
            }],
        }
    return {
        "listeners": {"vendor": {"host": "127.0.0.1", "port": vendor_port},
                      "admin": {"host": "127.0.0.1", "port": admin_port}},
        "store": {"url": store_url},
        "keys": {"master_key": "file:master.key"},
        "inspection": {"workers": workers, "timeout_seconds": timeout, "max_body_bytes": 256 * 1024},
        "logging": {"level": "warning", "file": "aduana.log"},
        "lifecycle": {"sweep_interval_seconds": 0},
        "contracts": contracts,
    }


def cli(config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*ADUANA, *args, "--config", str(config)], capture_output=True, text=True,
                          cwd=config.parent, timeout=180, env={**os.environ})
    if check and done.returncode != 0:
        raise RuntimeError(f"aduana {' '.join(args)} exited {done.returncode}: {done.stderr}{done.stdout}")
    return done


def prepare(directory: Path, data: dict[str, Any]) -> tuple[Path, list[str]]:
    """Write the config, make the master key and the store, issue one key per vendor: (config, keys)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "aduana.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    cli(config, "keys", "init")
    cli(config, "store", "migrate")
    keys = [cli(config, "vendor", "issue-key", name).stdout.strip() for name in data["contracts"]]
    return config, keys


def serve(config: Path) -> subprocess.Popen[bytes]:
    """``aduana serve`` in its own session (so the whole process group can be signalled)."""
    with open(config.parent / "serve.err", "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([*ADUANA, "serve", "--config", str(config)], stdout=log, stderr=log,
                                cwd=config.parent, start_new_session=True, env={**os.environ})
