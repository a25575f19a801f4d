"""The built-in audit sink: JSONL file, syslog over UDP or a unix socket, nothing when unconfigured."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_support import event

from gateway.audit import AuditLog
from gateway.audit.log import plugin_sink
from gateway.audit.record import canonical_json
from gateway.keys.keyring import KeyRing
from gateway.pluginmanager import load_plugins
from gateway.plugins import auditsink_jsonl
from gateway.store import Database

AUTHPRIV_INFO = f"<{10 * 8 + 6}>"  # facility authpriv (10), severity info (6)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(auditsink_jsonl.JSONL_ENV, raising=False)
    monkeypatch.delenv(auditsink_jsonl.SYSLOG_ENV, raising=False)
    yield
    auditsink_jsonl.close()


@pytest.fixture
def sink_log(db: Database, keyring: KeyRing) -> AuditLog:
    plugins = load_plugins(builtins=("gateway.plugins.auditsink_jsonl",), entry_points=False)
    return AuditLog(db, keyring, sink=plugin_sink(plugins))


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def test_jsonl_file(sink_log: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "siem" / "audit.jsonl"
    target.parent.mkdir()
    monkeypatch.setenv(auditsink_jsonl.JSONL_ENV, str(target))
    records = [sink_log.append(event(i)) for i in range(3)]
    lines = target.read_bytes().splitlines()
    assert lines == [canonical_json(r) for r in records]
    assert target.stat().st_mode & 0o777 == 0o600


def test_nothing_when_unconfigured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert auditsink_jsonl.aduana_audit_record(record={"seq": 1}) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("form", ["udp://127.0.0.1:{port}", "127.0.0.1:{port}"])
def test_syslog_udp(sink_log: AuditLog, udp: socket.socket, monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    monkeypatch.setenv(auditsink_jsonl.SYSLOG_ENV, form.format(port=udp.getsockname()[1]))
    record = sink_log.append(event(1))
    datagram = udp.recv(65536).decode("utf-8")
    prefix = f"{AUTHPRIV_INFO}aduana-audit: "
    assert datagram.startswith(prefix)
    assert json.loads(datagram.removeprefix(prefix).rstrip("\x00")) == record


def test_syslog_unix_socket(sink_log: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)
        monkeypatch.setenv(auditsink_jsonl.SYSLOG_ENV, str(path))
        record = sink_log.append(event(1))
        datagram = server.recv(65536).decode("utf-8")
    assert datagram.startswith(AUTHPRIV_INFO) and f'"hash":"{record["hash"]}"' in datagram


def test_a_broken_sink_is_recorded_not_raised(sink_log: AuditLog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auditsink_jsonl.SYSLOG_ENV, "not-an-address")
    record = sink_log.append(event(1))  # the request is not affected
    assert record["seq"] == 1
    with sink_log.db.transaction() as tx:
        row = tx.fetchone("SELECT body FROM audit_records WHERE seq = 2")
    assert row is not None
    assert json.loads(row[0])["action"] == "audit.sink-failed"
