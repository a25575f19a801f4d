"""Run the real ``aduana`` command in subprocesses: config files, free ports, ``serve`` and its readiness.

For end-to-end tests that need what an in-process harness cannot show: several processes, signals,
``--workers``, and exactly which files a gateway process writes (its own ``TMPDIR``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from harness import gateway_config

ADUANA = [sys.executable, "-m", "gateway.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(directory: Path, upstream: str, store_url: str, *, vendor_port: int, admin_port: int,
                 master_key: str = "file:master.key", **overrides: Any) -> Path:
    """A gateway config in ``directory`` (log file beside it) in front of ``upstream``."""
    directory.mkdir(parents=True, exist_ok=True)
    data = gateway_config(upstream, **overrides)
    data["listeners"] = {"vendor": {"host": "127.0.0.1", "port": vendor_port},
                         "admin": {"host": "127.0.0.1", "port": admin_port}}
    data["store"] = {"url": store_url}
    data["keys"] = {"master_key": master_key}
    data["logging"] = {"level": "info", "file": "aduana.log"}
    path = directory / "aduana.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_cli(config: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True,
            timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``aduana ARGS --config CONFIG`` in a subprocess (stdout and stderr captured)."""
    done = subprocess.run([*ADUANA, *args, "--config", str(config)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=config.parent, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"aduana {' '.join(args)} exited {done.returncode}: {done.stderr}{done.stdout}")
    return done


class Served:
    """``aduana serve`` running in a subprocess; its stderr goes to ``serve.err`` beside the config."""

    def __init__(self, config: Path, *, workers: int = 1, env: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.stderr_path = config.parent / "serve.err"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [*ADUANA, "serve", "--config", str(config)] + (["--workers", str(workers)] if workers > 1 else [])
        self.process = subprocess.Popen(args, stdout=self._stderr, stderr=self._stderr, cwd=config.parent,
                                        env={**os.environ, **(env or {})}, start_new_session=True)

    async def wait_ready(self, admin_url: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"aduana serve exited {self.process.returncode}: {self.stderr()}")
                try:
                    async with session.get(admin_url + "/readyz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await _sleep(0.25)
        raise AssertionError(f"aduana serve was not ready after {timeout:.0f}s: {self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Signal the process and wait; return its exit status (kills it if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._stderr.close()
        return int(self.process.returncode)


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
