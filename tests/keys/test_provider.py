"""Master-key providers: the key file and the environment variable, and every way they refuse."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from gateway.errors import KeyError_
from gateway.keys.crypto import key_fingerprint
from gateway.keys.provider import EnvKeyProvider, FileKeyProvider, init_key_file
from gateway.pluginmanager import load_plugins


def test_init_creates_a_private_random_key_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "master.key"
    init_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = FileKeyProvider(path).master_key()
    assert len(key) == 32
    before = path.read_bytes()
    with pytest.raises(KeyError_, match="refusing to overwrite"):
        init_key_file(path)
    assert path.read_bytes() == before
    other = tmp_path / "other.key"
    init_key_file(other)
    assert FileKeyProvider(other).master_key() != key


@pytest.mark.parametrize(("content", "mode", "message"), [
    (None, 0o600, "does not exist: create it with `aduana keys init`"),
    ("bm90IGEga2V5\n", 0o600, "must be 32 bytes, found 9"),
    ("!!! not base64 !!!\n", 0o600, "not valid base64"),
    (base64.b64encode(b"k" * 32).decode(), 0o640, "readable by others: chmod 600"),
    (base64.b64encode(b"k" * 32).decode(), 0o604, "readable by others: chmod 600"),
    (b"\xff\xfe", 0o600, "cannot be read"),
])
def test_a_bad_key_file_is_refused_with_a_clear_message(
    tmp_path: Path, content: str | bytes | None, mode: int, message: str
) -> None:
    path = tmp_path / "master.key"
    if content is not None:
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        path.chmod(mode)
    with pytest.raises(KeyError_, match=message):
        FileKeyProvider(path).master_key()


@pytest.mark.parametrize(("value", "message"), [
    (None, "is not set"),
    ("", "is not set"),
    ("c2hvcnQ=", "must be 32 bytes"),
    ("%%%", "not valid base64"),
])
def test_a_bad_environment_key_is_refused(monkeypatch: pytest.MonkeyPatch, value: str | None, message: str) -> None:
    if value is None:
        monkeypatch.delenv("ADUANA_TEST_KEY", raising=False)
    else:
        monkeypatch.setenv("ADUANA_TEST_KEY", value)
    with pytest.raises(KeyError_, match=message):
        EnvKeyProvider("ADUANA_TEST_KEY").master_key()


def test_the_environment_provider_and_descriptions(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = os.urandom(32)
    monkeypatch.setenv("ADUANA_TEST_KEY", base64.b64encode(key).decode() + "\n")
    assert EnvKeyProvider("ADUANA_TEST_KEY").master_key() == key
    assert EnvKeyProvider("ADUANA_TEST_KEY").describe() == "environment variable ADUANA_TEST_KEY"
    assert FileKeyProvider(tmp_path / "k").describe() == f"file {tmp_path / 'k'}"
    assert key_fingerprint(key) == key_fingerprint(key) != key_fingerprint(os.urandom(32))
    assert len(key_fingerprint(key)) == 16 and key.hex()[:16] != key_fingerprint(key)


@pytest.mark.parametrize(("source", "kind"), [
    ("file:/etc/aduana/master.key", FileKeyProvider),
    ("env:ADUANA_MASTER_KEY", EnvKeyProvider),
    ("kms:arn:aws:kms:eu-west-1:1:key/x", type(None)),
])
def test_the_built_in_providers_are_plugins(source: str, kind: type) -> None:
    provider = load_plugins(entry_points=False).key_provider(source)
    assert isinstance(provider, kind)
