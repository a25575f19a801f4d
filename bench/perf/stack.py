"""The system under test: the benchmark upstream and a real ``aduana serve`` in front of it, on loopback.

One config, two contracts, so that one gateway serves both measured paths:

- ``bench-pass`` (route ``/pass``): a pack written here, ``bench-pass``, that lets ``application/json``
  through uninspected and names no entity — the proxy's own cost (authentication, routing, forwarding,
  audit record);
- ``bench-full`` (route ``/full``): the shipped ``gdpr`` + ``hipaa`` + ``pci-dss`` packs — the full
  inspection path (detection in the workers, tokens in the vault, audit).

Everything is set up with the ``aduana`` command, as an operator would: ``policy validate``,
``config check``, ``keys init``, ``store migrate``, ``vendor issue-key``, ``serve``. The store is SQLite in
the state folder (``synchronous=FULL`` unless ``--sqlite-synchronous normal``: every audit record is on
disk before the response leaves).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
ADUANA = [str(BIN / "aduana")] if (BIN / "aduana").exists() else [sys.executable, "-m", "gateway.cli"]
UPSTREAM_TOKEN = "bench-helpdesk-token"  # the same constant as upstream.TOKEN (that module is a script)
FULL_PACKS = ("gdpr", "hipaa", "pci-dss")

PASS_PACK = """\
# Written by the performance benchmark: lets JSON through uninspected, so a request on this route costs
# only the proxy's own work (authentication, routing, forwarding, the audit record).
name: bench-pass
version: "1.0.0"
description: JSON passes uninspected (benchmark of the proxy's own cost).
languages: [en, es]
content_types:
  pass: [application/json]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ok(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 180.0) -> None:
    """Poll ``url`` until it answers 200; fail if ``proc`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f}s")


class Stack:
    """Starts and stops the upstream and the gateway; the state folder survives gateway restarts."""

    def __init__(self, directory: Path, corpus_path: Path, *, synchronous: str = "full",
                 env: dict[str, str] | None = None, overrides: dict[str, Any] | None = None) -> None:
        self.directory = directory
        #: Merged into the written config, section by section (``compare.py --head-config``).
        self.overrides = overrides or {}
        #: Extra environment of every ``aduana`` command (``compare.py`` sets PYTHONPATH to run other code).
        self.env = {**os.environ, **(env or {})}
        self.synchronous = synchronous
        self.corpus_path = corpus_path
        self.upstream_port = free_port()
        self.vendor_port = free_port()
        self.admin_port = free_port()
        self.keys: dict[str, str] = {}
        self.upstream: subprocess.Popen[bytes] | None = None
        self.bare_port = free_port()
        self.bare: subprocess.Popen[bytes] | None = None
        self.gateway: subprocess.Popen[bytes] | None = None
        self.workers = 0
        self._logs: list[IO[bytes]] = []

    # --- URLs -----------------------------------------------------------------------------------------

    @property
    def upstream_url(self) -> str:
        return f"http://127.0.0.1:{self.upstream_port}"

    @property
    def bare_url(self) -> str:
        return f"http://127.0.0.1:{self.bare_port}"

    @property
    def vendor_url(self) -> str:
        return f"http://127.0.0.1:{self.vendor_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "aduana.yaml"

    # --- set-up ---------------------------------------------------------------------------------------

    def _log(self, name: str) -> IO[bytes]:
        fh = (self.directory / f"{name}.out").open("ab")
        self._logs.append(fh)
        return fh

    def aduana(self, *args: str) -> str:
        """Run an ``aduana`` command against the bench config; return its stdout, raise on failure."""
        env = {**self.env, "ADUANA_CONFIG": str(self.config_path)}
        result = subprocess.run([*ADUANA, *args], env=env, capture_output=True, text=True, cwd=self.directory)
        if result.returncode != 0:
            raise RuntimeError(f"aduana {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    def write_config(self, workers: int) -> None:
        paths = ["/api/tickets/{id}"]
        auth = {"Authorization": f"Bearer {UPSTREAM_TOKEN}"}
        route: dict[str, Any] = {"upstream": self.upstream_url + "/", "methods": ["GET"], "paths": paths,
                                 "upstream_headers": auth}
        config = {
            "listeners": {"vendor": {"host": "127.0.0.1", "port": self.vendor_port},
                          "admin": {"host": "127.0.0.1", "port": self.admin_port}},
            "store": {"url": "sqlite:///aduana.db", "sqlite": {"synchronous": self.synchronous}},
            "keys": {"master_key": "file:master.key"},
            "inspection": {"workers": workers, "timeout_seconds": 60, "max_body_bytes": 4 * 1024 * 1024},
            "logging": {"level": "info", "file": "aduana.log"},
            "policy_paths": ["packs/"],
            "contracts": {
                "bench-pass": {"vendor": "Benchmark (pass-through)", "policy_packs": ["bench-pass"],
                               "routes": [{**route, "name": "passthrough", "prefix": "/pass"}]},
                "bench-full": {"vendor": "Benchmark (full inspection)", "policy_packs": list(FULL_PACKS),
                               "routes": [{**route, "name": "inspected", "prefix": "/full"}]},
            },
        }
        _merge(config, self.overrides)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def start_upstream(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.upstream = subprocess.Popen(
            [sys.executable, str(HERE / "upstream.py"), "--port", str(self.upstream_port),
             "--corpus", str(self.corpus_path)], stdout=self._log("upstream"), stderr=subprocess.STDOUT)
        wait_ok(f"{self.upstream_url}/healthz", self.upstream, "the upstream", timeout=60)

    def start_bare_proxy(self) -> None:
        """Start ``bare_proxy.py`` in front of the upstream: the reference floor under (b)."""
        self.bare = subprocess.Popen(
            [sys.executable, str(HERE / "bare_proxy.py"), "--port", str(self.bare_port),
             "--upstream", self.upstream_url, "--token", UPSTREAM_TOKEN],
            stdout=self._log("bare-proxy"), stderr=subprocess.STDOUT)
        wait_ok(f"{self.bare_url}/healthz", self.bare, "the bare proxy", timeout=60)

    def start_gateway(self, workers: int, wrap: list[str] | None = None) -> None:
        """(Re)start ``aduana serve`` with ``workers`` inspection processes and wait until it is ready.

        ``wrap`` replaces the ``aduana`` command (e.g. a profiler running the same CLI).
        """
        self.stop_gateway()
        first = not (self.directory / "master.key").exists()
        packs = self.directory / "packs"
        packs.mkdir(parents=True, exist_ok=True)
        (packs / "bench-pass.yaml").write_text(PASS_PACK, encoding="utf-8")
        self.write_config(workers)
        if first:
            self.aduana("policy", "validate", str(packs / "bench-pass.yaml"), "--config", str(self.config_path))
            self.aduana("config", "check", str(self.config_path))
            self.aduana("keys", "init")
            self.aduana("store", "migrate")
            for contract in ("bench-pass", "bench-full"):
                self.keys[contract] = self.aduana("vendor", "issue-key", contract).strip().splitlines()[-1]
        command = [*(wrap or ADUANA), "serve", "--config", str(self.config_path)]
        self.gateway = subprocess.Popen(command, cwd=self.directory, stdout=self._log("gateway"),
                                        stderr=subprocess.STDOUT, env=self.env)
        wait_ok(f"{self.admin_url}/readyz", self.gateway, "the gateway")
        self.workers = workers

    def stop_gateway(self) -> None:
        if self.gateway is not None:
            _stop(self.gateway)
            self.gateway = None

    def close(self) -> None:
        self.stop_gateway()
        if self.bare is not None:
            _stop(self.bare)
            self.bare = None
        if self.upstream is not None:
            _stop(self.upstream)
            self.upstream = None
        for fh in self._logs:
            fh.close()
        self._logs.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
