"""The whole demo runs, exits 0, and no process of it connects anywhere but loopback.

Every Python process of the run (the demo, the helpdesk, the gateway, its inspection workers and each
CLI command) gets a ``sitecustomize`` that records each ``socket.connect`` and ``socket.getaddrinfo``
through Python's audit hooks. tldextract's suffix list download, a model download or any telemetry would
show up here as a connection to a non-loopback address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-demo")]

ROOT = Path(__file__).resolve().parents[2]

SITECUSTOMIZE = '''
import json, os, sys

_LOG = os.environ["ADUANA_NET_LOG"]

def _hook(event, args):
    if event == "socket.connect":
        address = args[1]
        entry = {"event": event, "address": list(address) if isinstance(address, tuple) else str(address)}
    elif event == "socket.getaddrinfo":
        entry = {"event": event, "address": [str(args[0]), args[1]]}
    else:
        return
    entry["pid"] = os.getpid()
    entry["argv"] = sys.argv[:2]
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\\n")

sys.addaudithook(_hook)
'''

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def test_demo_runs_end_to_end_and_stays_offline(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "net.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "ADUANA_NET_LOG": str(log),
        "ADUANA_DEMO_DIR": str(tmp_path / "demo"),
    }
    env.pop("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", None)  # the gateway must set it itself
    result = subprocess.run([sys.executable, str(ROOT / "examples/demo/run_demo.py")], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Demo complete" in result.stdout
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    connects = [e for e in entries if e["event"] == "socket.connect"]
    assert connects, "the audit hook saw no connection at all: it is not installed"
    # The gateway's own connections (to the helpdesk) were seen, not only the demo's.
    assert any(e["argv"][0].endswith("aduana") and e["argv"][1:] == ["serve"] for e in connects), connects[:3]
    outside = [e for e in entries if isinstance(e["address"], list) and e["address"][0] not in LOOPBACK]
    assert outside == [], f"connections outside loopback: {outside[:5]}"
