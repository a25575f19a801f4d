"""``python -m helpdesk``: the command line, and a real process serving on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_helpdesk(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES)}
    env.pop("HELPDESK_API_TOKEN", None)
    return subprocess.Popen(
        [sys.executable, "-m", "helpdesk", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def test_help_lists_the_options() -> None:
    process = run_helpdesk("--help")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    for option in ("--host", "--port", "--api-token"):
        assert option in out


@pytest.mark.e2e
def test_serves_and_logs_one_line_per_request_without_data() -> None:
    port = free_port()
    process = run_helpdesk("--host", "127.0.0.1", "--port", str(port), "--api-token", "cli-token")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _ = fetch(base + "/healthz")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert status == 200
        status, body = fetch(base + "/api/tickets?email=lucia.fernandez%40example.org", "cli-token")
        assert status == 200
        assert [t["id"] for t in json.loads(body)["tickets"]] == [1004]
        assert fetch(base + "/api/tickets/1004", "helpdesk-secret-token")[0] == 401
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "GET /healthz 200" in err
    assert "GET /api/tickets 200" in err
    assert "GET /api/tickets/1004 401" in err
    for secret in ("lucia", "cli-token", "Fernández"):
        assert secret not in err
